package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.JobStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.google.firestore.v1.RunQueryRequest;
import com.google.firestore.v1.RunQueryResponse;
import com.google.firestore.v1.StructuredQuery;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory;
import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.Validation;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code export-jobs}: exports every job document (collection group {@code jobs}) to one JSON array
 * of plain JSON objects, sorted by tenant then job_id: fields decoded to natural JSON (strings,
 * numbers, maps, lists, timestamps as ISO-8601) plus {@code path} ({@code tenants/T/jobs/J}).
 *
 * <pre>
 *   export-jobs --emulator-host=127.0.0.1:8080 --project=demo-aiprod --output=jobs.json
 * </pre>
 *
 * <p>A small DirectRunner pipeline: FirestoreIO {@code runQuery} over all descendants named {@code
 * jobs}, then one grouped step writing the file. With {@code --emulator-host} no credentials are
 * looked up.
 */
@Command(
    name = "export-jobs",
    sortOptions = false,
    description = {
      "Exports every Firestore job document to one JSON array (a small Beam pipeline)."
    })
public final class ExportJobs extends Tool {
  @Option(
      names = "--project",
      required = true,
      paramLabel = "PROJECT",
      description = "The Firestore project.")
  String project;

  @Option(
      names = "--emulator-host",
      paramLabel = "HOST:PORT",
      description = "A Firestore emulator (no credentials); default: Firestore itself.")
  String emulatorHost;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "FILE.json",
      description = "The JSON file to write.")
  Path output;

  /** Options of the export: Beam's Firestore and GCP options plus {@code --output}. */
  public interface Options extends FirestoreOptions, GcpOptions {
    @Description("The JSON file to write.")
    @Validation.Required
    String getOutput();

    void setOutput(String value);
  }

  @Override
  public Integer call() throws IOException {
    List<String> args = new ArrayList<>();
    args.add("--project=" + project);
    args.add("--output=" + output);
    if (emulatorHost != null) {
      args.add("--emulatorHost=" + emulatorHost);
    }
    int n = run(args.toArray(new String[0]));
    out().println("Exported " + n + " job documents to " + output);
    return 0;
  }

  /**
   * Runs the export with Beam pipeline options ({@code --project}, {@code --output}, {@code
   * --emulatorHost}, …); returns the number of documents written.
   */
  public static int run(String... args) throws IOException {
    PipelineOptionsFactory.register(Options.class);
    Options options = PipelineOptionsFactory.fromArgs(args).withValidation().as(Options.class);
    boolean credentialGiven = false;
    for (String a : args) {
      credentialGiven |= a.startsWith("--credentialFactoryClass");
    }
    if (options.getEmulatorHost() != null && !credentialGiven) {
      options.setCredentialFactoryClass(NoopCredentialFactory.class);
    }
    Path output = Path.of(options.getOutput()).toAbsolutePath();
    Files.deleteIfExists(output);
    if (output.getParent() != null) {
      Files.createDirectories(output.getParent());
    }
    JobStore store = JobStore.fromOptions(options);
    RunQueryRequest query =
        RunQueryRequest.newBuilder()
            .setParent(store.documentsRoot())
            .setStructuredQuery(
                StructuredQuery.newBuilder()
                    .addFrom(
                        StructuredQuery.CollectionSelector.newBuilder()
                            .setCollectionId("jobs")
                            .setAllDescendants(true)))
            .build();

    Pipeline p = Pipeline.create(options);
    p.apply("Query", Create.of(query).withCoder(ProtoCoder.of(RunQueryRequest.class)))
        .apply(
            "RunQuery",
            FirestoreIO.v1().read().runQuery().withRpcQosOptions(store.rpcQosOptions()).build())
        .apply("ToJson", ParDo.of(new ToJsonFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply("All", WithKeys.of("all"))
        .setCoder(
            KvCoder.of(
                StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
        .apply("Group", GroupByKey.create())
        .apply("WriteFile", ParDo.of(new WriteFileFn(output.toString())));
    p.run().waitUntilFinish();

    if (!Files.exists(output)) {
      Files.writeString(output, "[]\n");
    }
    return new ObjectMapper().readTree(output.toFile()).size();
  }

  /** A query result as (sort key "tenant\0job_id", JSON object). */
  static final class ToJsonFn extends DoFn<RunQueryResponse, KV<String, String>> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ProcessElement
    public void process(@Element RunQueryResponse r, OutputReceiver<KV<String, String>> out)
        throws IOException {
      if (!r.hasDocument()) {
        return;
      }
      Map<String, Object> plain = JobDocuments.toPlainMap(r.getDocument());
      String path = (String) plain.get("path");
      String[] parts = path.split("/");
      String key = parts.length >= 4 ? parts[1] + "\u0000" + parts[3] : path;
      out.output(KV.of(key, JSON.writeValueAsString(plain)));
    }
  }

  /** Writes the sorted array (a single grouped element). */
  static final class WriteFileFn extends DoFn<KV<String, Iterable<KV<String, String>>>, Void> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String output;

    WriteFileFn(String output) {
      this.output = output;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<KV<String, String>>> all) throws IOException {
      List<KV<String, String>> docs = new ArrayList<>();
      all.getValue().forEach(docs::add);
      docs.sort((a, b) -> a.getKey().compareTo(b.getKey()));
      ArrayNode array = JSON.createArrayNode();
      for (KV<String, String> d : docs) {
        JsonNode node = JSON.readTree(d.getValue());
        array.add(node);
      }
      Path tmp = Path.of(output + ".tmp");
      JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), array);
      Files.move(tmp, Path.of(output), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
