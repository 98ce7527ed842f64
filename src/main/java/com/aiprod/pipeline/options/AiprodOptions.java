package com.aiprod.pipeline.options;

import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * The pipeline's options (DESIGN §11), also the Flex Template parameters. Beam's own options are
 * reused where they exist: {@code --project}, {@code --firestoreDb}, {@code --emulatorHost}, {@code
 * --pubsubRootUrl}, {@code --tempLocation}, {@code --streaming}, and BigQueryOptions' {@code
 * --useStorageWriteApiAtLeastOnce} (a template parameter, see {@link TemplateSpec}). Options
 * without a {@link TemplateParameter} are for local runs only and absent from the Flex Template:
 * {@code authMode} (dev mode is refused on Dataflow), {@code devAuthDir}, {@code pubsubAcks} and
 * {@code ackDelaySeconds} (Dataflow acknowledges after its own commit), {@code stopAfterOutcomes},
 * {@code dryRun}.
 */
public interface AiprodOptions
    extends GcpOptions, FirestoreOptions, PubsubOptions, StreamingOptions {

  @Description(
      "Pub/Sub subscription to read job requests from, projects/P/subscriptions/S. Exactly one of"
          + " inputSubscription, inputTopic, inputFiles.")
  @TemplateParameter(
      order = 1,
      label = "Input Pub/Sub subscription (streaming)",
      helpText =
          "Pub/Sub subscription to read job requests from: a streaming job. "
              + "Exactly one of inputSubscription, inputTopic, inputFiles. Example: "
              + "`projects/my-project/subscriptions/aiprod-jobs-pipeline`.",
      group = "Input",
      paramType = "PUBSUB_SUBSCRIPTION",
      regexes = {
        "^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/subscriptions/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$"
      })
  String getInputSubscription();

  void setInputSubscription(String value);

  @Description(
      "Pub/Sub topic to read job requests from (a subscription is created by the runner),"
          + " projects/P/topics/T. Exactly one of inputSubscription, inputTopic, inputFiles.")
  @TemplateParameter(
      order = 2,
      label = "Input Pub/Sub topic (streaming, testing)",
      helpText =
          "Pub/Sub topic to read job requests from: a streaming job whose "
              + "subscription the runner creates and never deletes; production reads "
              + "inputSubscription. Exactly one of inputSubscription, inputTopic, "
              + "inputFiles. Example: `projects/my-project/topics/aiprod-jobs`.",
      group = "Input",
      paramType = "PUBSUB_TOPIC",
      regexes = {"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$"})
  String getInputTopic();

  void setInputTopic(String value);

  @Description(
      "Batch input: JSONL files (glob), one {\"attributes\":{...},\"data\":{...}} or"
          + " {\"attributes\":{...},\"data_b64\":\"...\"} message per line. Exactly one of"
          + " inputSubscription, inputTopic, inputFiles.")
  @TemplateParameter(
      order = 3,
      label = "Input JSONL files (batch)",
      helpText =
          "JSONL files on Cloud Storage (a glob), one request envelope per line: "
              + "a batch job. Exactly one of inputSubscription, inputTopic, inputFiles. "
              + "Examples: `gs://my-project-aiprod/requests/2026-11-24/*.jsonl`, "
              + "`gs://my-project-aiprod/replay.jsonl`.",
      group = "Input",
      paramType = "GCS_READ_FILE",
      regexes = {"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/[^\\s]+$"})
  String getInputFiles();

  void setInputFiles(String value);

  @Description(
      "Firebase project whose ID tokens are accepted (iss/aud). Default: --project, or"
          + " demo-aiprod in dev auth mode.")
  @TemplateParameter(
      order = 4,
      label = "Firebase project of the accepted ID tokens",
      helpText =
          "Firebase project whose ID tokens are accepted (iss "
              + "https://securetoken.google.com/<project>, aud <project>). Default: the "
              + "job's project. Example: `my-firebase-project`.",
      group = "Authentication",
      regexes = {"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"})
  String getFirebaseProject();

  void setFirebaseProject(String value);

  @Description(
      "firebase: verify against Google's securetoken certificates; dev: trust the key pair in"
          + " --devAuthDir (refused on Dataflow).")
  @Default.String("firebase")
  String getAuthMode();

  void setAuthMode(String value);

  @Description("Dev auth key pair directory (private-key.pem, certificate.pem, kid).")
  @Default.String("local/dev-auth")
  String getDevAuthDir();

  void setDevAuthDir(String value);

  @Description(
      "Warehouse for result, audit and dead-letter rows: bigquery:PROJECT.DATASET or duckdb:PATH.")
  @Validation.Required
  @TemplateParameter(
      order = 7,
      label = "BigQuery warehouse dataset",
      helpText =
          "Warehouse for job_results, shot_renders, audit_events and "
              + "dead_letters: bigquery:PROJECT.DATASET. duckdb:PATH is for local runs "
              + "only (a file on a Dataflow worker is private to that worker and lost "
              + "with it), so the template refuses it. Example: "
              + "`bigquery:my-project.aiprod`.",
      group = "Outputs",
      regexes = {"^bigquery:[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]{1,1024}$"},
      optional = false)
  String getWarehouse();

  void setWarehouse(String value);

  @Description("Where secrets come from: secretmanager:projects/P or dir:PATH.")
  @Default.String("dir:local/secrets")
  @TemplateParameter(
      order = 9,
      label = "Secret Manager project",
      helpText =
          "Where the secrets audit-hmac-key, runway-api-key and "
              + "replicate-api-token come from: secretmanager:projects/PROJECT. "
              + "Required in the template although the options default to "
              + "dir:local/secrets: a secrets directory on a Dataflow worker would give "
              + "each worker its own new audit key. Example: "
              + "`secretmanager:projects/my-project`.",
      group = "Security",
      regexes = {"^secretmanager:projects/[a-z][a-z0-9-]{4,28}[a-z0-9]$"},
      optional = false)
  String getSecretSource();

  void setSecretSource(String value);

  @Description(
      "Render backends to route to, comma separated ids of pricing.json (veo3, veo3_fast,"
          + " runway_gen4_turbo, replicate_wan, preview).")
  @Default.String("preview")
  @TemplateParameter(
      order = 10,
      label = "Render backends",
      helpText =
          "Backend ids of the pricing table to route renders to, comma separated: "
              + "veo3, veo3_fast, runway_gen4_turbo, replicate_wan, preview. With only "
              + "preview, final renders are refused with NO_BACKEND_AVAILABLE. "
              + "Examples: `veo3,veo3_fast,runway_gen4_turbo,replicate_wan`, `preview`.",
      group = "Rendering",
      regexes = {"^[a-z0-9_]{1,64}(,[a-z0-9_]{1,64})*$"})
  String getRenderBackends();

  void setRenderBackends(String value);

  @Description("Pricing table overriding the bundled pricing.json (local path or gs:// URI).")
  @TemplateParameter(
      order = 11,
      label = "Pricing table override",
      helpText =
          "A pricing.json on Cloud Storage overriding the bundled one (list "
              + "prices change). Default: the pricing table bundled in the image. "
              + "Example: `gs://my-project-aiprod/config/pricing.json`.",
      group = "Rendering",
      paramType = "GCS_READ_FILE",
      regexes = {"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/[^\\s]+$"})
  String getPricingFile();

  void setPricingFile(String value);

  @Description(
      "Where rendered shots, final.mp4 and manifest.json go: gs://bucket/prefix or a local directory.")
  @Validation.Required
  @TemplateParameter(
      order = 12,
      label = "Output location",
      helpText =
          "Cloud Storage prefix for rendered shots, final.mp4 and manifest.json "
              + "(tenant/job_id/ under it). Example: `gs://my-project-aiprod/outputs`.",
      group = "Outputs",
      paramType = "GCS_WRITE_FOLDER",
      regexes = {"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\\s]*)?$"},
      optional = false)
  String getOutputLocation();

  void setOutputLocation(String value);

  @Description("Optional Pub/Sub topic that also receives every dead letter, projects/P/topics/T.")
  @TemplateParameter(
      order = 15,
      label = "Dead-letter topic",
      helpText =
          "Pub/Sub topic that also receives every dead letter (besides the "
              + "dead_letters table); never with the authorization attribute. Example: "
              + "`projects/my-project/topics/aiprod-dead-letters`.",
      group = "Outputs",
      paramType = "PUBSUB_TOPIC",
      regexes = {"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$"})
  String getDeadLetterTopic();

  void setDeadLetterTopic(String value);

  @Description(
      "When Pub/Sub messages are acknowledged. outcome: once the message's outcome (terminal job"
          + " document or dead letter) is durable, so a stopped or killed run loses nothing (needs"
          + " --inputSubscription and one JVM: DirectRunner, embedded Flink). checkpoint: PubsubIO's"
          + " acknowledgement when the runner has taken the message in (Dataflow commits it durably"
          + " first). auto (default): outcome on the DirectRunner and embedded Flink with a"
          + " subscription, checkpoint elsewhere.")
  @Default.String("auto")
  String getPubsubAcks();

  void setPubsubAcks(String value);

  @Description(
      "With --pubsubAcks=outcome: seconds between a message's outcome being durable and its"
          + " acknowledgement, for the writes beside the outcome (audit rows, job_results, the"
          + " dead-letter topic) to land.")
  @Default.Integer(10)
  int getAckDelaySeconds();

  void setAckDelaySeconds(int value);

  @Description(
      "Local runs only (DirectRunner/Flink embedded): stop a streaming run cleanly once this many"
          + " input messages have reached their terminal outcome. 0 (default): run until cancelled.")
  @Default.Long(0)
  long getStopAfterOutcomes();

  void setStopAfterOutcomes(long value);

  @Description(
      "Runway API base URL (default https://api.dev.runwayml.com); override for a regional endpoint"
          + " or a test server.")
  @TemplateParameter(
      order = 17,
      label = "Runway API base URL",
      helpText =
          "Runway API base URL; default https://api.dev.runwayml.com. Override "
              + "for a regional endpoint. Example: `https://api.dev.runwayml.com`.",
      group = "Rendering",
      regexes = {"^https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[^\\s]*)?$"})
  String getRunwayEndpoint();

  void setRunwayEndpoint(String value);

  @Description(
      "Replicate API base URL (default https://api.replicate.com); override for a test server.")
  @TemplateParameter(
      order = 18,
      label = "Replicate API base URL",
      helpText =
          "Replicate API base URL; default https://api.replicate.com. Example: "
              + "`https://api.replicate.com`.",
      group = "Rendering",
      regexes = {"^https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[^\\s]*)?$"})
  String getReplicateEndpoint();

  void setReplicateEndpoint(String value);

  @Description(
      "Vertex AI base URL for Veo and Gemini (default https://LOCATION-aiplatform.googleapis.com);"
          + " override for a test server.")
  @TemplateParameter(
      order = 19,
      label = "Vertex AI base URL",
      helpText =
          "Vertex AI base URL for Veo and Gemini; default "
              + "https://LOCATION-aiplatform.googleapis.com. Example: "
              + "`https://us-central1-aiplatform.googleapis.com`.",
      group = "Rendering",
      regexes = {"^https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[^\\s]*)?$"})
  String getVertexEndpoint();

  void setVertexEndpoint(String value);

  @Description("Vertex AI location of Veo and Gemini, e.g. us-central1.")
  @Default.String("us-central1")
  @TemplateParameter(
      order = 20,
      label = "Vertex AI location",
      helpText =
          "Vertex AI location of Veo and Gemini. Examples: `us-central1`, "
              + "`europe-west4`, `global`.",
      group = "Rendering",
      regexes = {"^(global|[a-z]+-[a-z]+[0-9]{1,2})$"})
  String getVertexLocation();

  void setVertexLocation(String value);

  @Description(
      "Gemini model on Vertex AI for planning and semantic QA, e.g. gemini-2.5-flash. Empty (default):"
          + " the local planner and the local semantic heuristic are used.")
  @TemplateParameter(
      order = 21,
      label = "Gemini model",
      helpText =
          "Gemini model on Vertex AI for planning and semantic QA. Empty: the "
              + "local planner and the local semantic heuristic. Example: "
              + "`gemini-2.5-flash`.",
      group = "Rendering",
      regexes = {"^[a-z0-9][a-z0-9._-]{0,127}$"})
  String getGeminiModel();

  void setGeminiModel(String value);

  @Description("Timeout in seconds of one HTTP exchange with a render or model provider.")
  @Default.Integer(30)
  @TemplateParameter(
      order = 22,
      label = "Provider request timeout (seconds)",
      helpText =
          "Timeout in seconds of one HTTP exchange with a render or model "
              + "provider, 1 to 9999. Examples: `30`, `120`.",
      group = "Rendering",
      paramType = "NUMBER",
      regexes = {"^[1-9][0-9]{0,3}$"})
  int getBackendRequestTimeoutSeconds();

  void setBackendRequestTimeoutSeconds(int value);

  @Description(
      "Seconds an output download may receive nothing before it is abandoned as stalled (well"
          + " under the 20-minute attempt timeout).")
  @TemplateParameter(
      order = 23,
      label = "Output download stall timeout (seconds)",
      helpText =
          "Seconds an output download from a provider may receive nothing before it is abandoned as stalled, 1 to 9999. Examples: `20`, `60`.",
      group = "Rendering",
      paramType = "NUMBER",
      regexes = {"^[1-9][0-9]{0,3}$"})
  @Default.Integer(20)
  int getDownloadStallTimeoutSeconds();

  void setDownloadStallTimeoutSeconds(int value);

  @Description("Longest an output download may take in all, in seconds.")
  @TemplateParameter(
      order = 24,
      label = "Output download timeout (seconds)",
      helpText =
          "Longest an output download from a provider may take in all, in seconds, 1 to 9999. Examples: `300`, `600`.",
      group = "Rendering",
      paramType = "NUMBER",
      regexes = {"^[1-9][0-9]{0,3}$"})
  @Default.Integer(300)
  int getDownloadTimeoutSeconds();

  void setDownloadTimeoutSeconds(int value);

  @Description("Largest output video downloaded or copied from a provider, in MiB.")
  @TemplateParameter(
      order = 25,
      label = "Largest output video (MiB)",
      helpText =
          "Largest output video downloaded or copied from a provider, in MiB, 1 to 99999; a larger one is refused. Examples: `512`, `2048`.",
      group = "Rendering",
      paramType = "NUMBER",
      regexes = {"^[1-9][0-9]{0,4}$"})
  @Default.Integer(512)
  int getMaxDownloadMegabytes();

  void setMaxDownloadMegabytes(int value);

  @Description("Deployment environment recorded on audit events: dev, staging or prod.")
  @Default.String("dev")
  @TemplateParameter(
      order = 26,
      label = "Deployment environment",
      helpText =
          "Environment recorded on every audit event: dev, staging or prod. "
              + "Required in the template although the options default to dev, so that "
              + "a production job never records itself as dev. Examples: `prod`, "
              + "`staging`, `dev`.",
      group = "Security",
      paramType = "ENUM",
      enumValues = {"prod", "staging", "dev"},
      optional = false)
  String getEnvironment();

  void setEnvironment(String value);

  @Description(
      "Check the options and build the whole graph for the chosen runner, then exit 0 without"
          + " running or submitting anything (a bad option exits 2 with every problem listed).")
  @Default.Boolean(false)
  boolean getDryRun();

  void setDryRun(boolean value);
}
