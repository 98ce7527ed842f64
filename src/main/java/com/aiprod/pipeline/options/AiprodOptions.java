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
 * --pubsubRootUrl}, {@code --tempLocation}, {@code --streaming}.
 */
public interface AiprodOptions
    extends GcpOptions, FirestoreOptions, PubsubOptions, StreamingOptions {

  @Description(
      "Pub/Sub subscription to read job requests from, projects/P/subscriptions/S. Exactly one of"
          + " inputSubscription, inputTopic, inputFiles.")
  String getInputSubscription();

  void setInputSubscription(String value);

  @Description(
      "Pub/Sub topic to read job requests from (a subscription is created by the runner),"
          + " projects/P/topics/T. Exactly one of inputSubscription, inputTopic, inputFiles.")
  String getInputTopic();

  void setInputTopic(String value);

  @Description(
      "Batch input: JSONL files (glob), one {\"attributes\":{...},\"data\":{...}} or"
          + " {\"attributes\":{...},\"data_b64\":\"...\"} message per line. Exactly one of"
          + " inputSubscription, inputTopic, inputFiles.")
  String getInputFiles();

  void setInputFiles(String value);

  @Description(
      "Firebase project whose ID tokens are accepted (iss/aud). Default: --project, or"
          + " demo-aiprod in dev auth mode.")
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
  String getWarehouse();

  void setWarehouse(String value);

  @Description(
      "--warehouse=bigquery:... only: write with the Storage Write API's at-least-once mode"
          + " (STORAGE_API_AT_LEAST_ONCE: cheaper, lower latency, a retried append may duplicate"
          + " rows) instead of the default exactly-once mode (STORAGE_WRITE_API).")
  @Default.Boolean(false)
  boolean getBigQueryAtLeastOnce();

  void setBigQueryAtLeastOnce(boolean value);

  @Description("Where secrets come from: secretmanager:projects/P or dir:PATH.")
  @Default.String("dir:local/secrets")
  String getSecretSource();

  void setSecretSource(String value);

  @Description(
      "Render backends to route to, comma separated ids of pricing.json (veo3, veo3_fast,"
          + " runway_gen4_turbo, replicate_wan, preview).")
  @Default.String("preview")
  String getRenderBackends();

  void setRenderBackends(String value);

  @Description("Pricing table overriding the bundled pricing.json (local path or gs:// URI).")
  String getPricingFile();

  void setPricingFile(String value);

  @Description(
      "Where rendered shots, final.mp4 and manifest.json go: gs://bucket/prefix or a local directory.")
  @Validation.Required
  String getOutputLocation();

  void setOutputLocation(String value);

  @Description("Optional Pub/Sub topic that also receives every dead letter, projects/P/topics/T.")
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
  String getRunwayEndpoint();

  void setRunwayEndpoint(String value);

  @Description(
      "Replicate API base URL (default https://api.replicate.com); override for a test server.")
  String getReplicateEndpoint();

  void setReplicateEndpoint(String value);

  @Description(
      "Vertex AI base URL for Veo and Gemini (default https://LOCATION-aiplatform.googleapis.com);"
          + " override for a test server.")
  String getVertexEndpoint();

  void setVertexEndpoint(String value);

  @Description("Vertex AI location of Veo and Gemini, e.g. us-central1.")
  @Default.String("us-central1")
  String getVertexLocation();

  void setVertexLocation(String value);

  @Description(
      "Gemini model on Vertex AI for planning and semantic QA, e.g. gemini-2.5-flash. Empty (default):"
          + " the local planner and the local semantic heuristic are used.")
  String getGeminiModel();

  void setGeminiModel(String value);

  @Description("Timeout in seconds of one HTTP exchange with a render or model provider.")
  @Default.Integer(30)
  int getBackendRequestTimeoutSeconds();

  void setBackendRequestTimeoutSeconds(int value);

  @Description(
      "Seconds an output download may receive nothing before it is abandoned as stalled (well"
          + " under the 20-minute attempt timeout).")
  @Default.Integer(20)
  int getDownloadStallTimeoutSeconds();

  void setDownloadStallTimeoutSeconds(int value);

  @Description("Longest an output download may take in all, in seconds.")
  @Default.Integer(300)
  int getDownloadTimeoutSeconds();

  void setDownloadTimeoutSeconds(int value);

  @Description("Largest output video downloaded or copied from a provider, in MiB.")
  @Default.Integer(512)
  int getMaxDownloadMegabytes();

  void setMaxDownloadMegabytes(int value);

  @Description("Deployment environment recorded on audit events: dev, staging or prod.")
  @Default.String("dev")
  String getEnvironment();

  void setEnvironment(String value);
}
