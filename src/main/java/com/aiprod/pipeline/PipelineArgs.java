package com.aiprod.pipeline;

import com.aiprod.pipeline.options.AiprodOptions;
import java.io.PrintStream;
import javax.annotation.Nullable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * The pipeline main's command line: plain {@code --help} prints the pipeline's own options ({@code
 * AiprodOptions} with the Beam options it extends) rather than every registered interface; bad
 * options (unknown, unparsable, or refused by {@code OptionsCheck}) end with one message and exit
 * code 2, without a stack trace. {@code --help=INTERFACE} stays Beam's.
 */
final class PipelineArgs {
  /** Exit code of bad options (as the tools). */
  static final int USAGE = 2;

  static final String HELP_FOOTER =
      "Beam's other options (runners, Dataflow, Flink, Direct): --help=INTERFACE, e.g."
          + " --help=DataflowPipelineOptions, --help=FlinkPipelineOptions, --help=DirectOptions.";

  private PipelineArgs() {}

  /** The options and the built pipeline, or the exit code to end with (0 after help). */
  record Built(@Nullable AiprodOptions options, @Nullable Pipeline pipeline, int exitCode) {}

  /** Parses {@code args} and builds the graph; prints help or what is wrong. */
  static Built build(String[] args, PrintStream out, PrintStream err) {
    PipelineOptionsFactory.register(AiprodOptions.class);
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h") || a.equals("--help=true")) {
        PipelineOptionsFactory.printHelp(out, AiprodOptions.class);
        out.println();
        out.println(HELP_FOOTER);
        out.flush();
        return new Built(null, null, 0);
      }
    }
    AiprodOptions options;
    Pipeline pipeline;
    try {
      options = PipelineOptionsFactory.fromArgs(args).withValidation().as(AiprodOptions.class);
      pipeline = AiprodPipeline.create(options);
    } catch (IllegalArgumentException e) {
      err.println("aiprod-pipeline: bad options: " + message(e));
      err.println(
          "The pipeline's options: --help (the same as --help=AiprodOptions). " + HELP_FOOTER);
      err.flush();
      return new Built(null, null, USAGE);
    }
    return new Built(options, pipeline, 0);
  }

  private static String message(Throwable e) {
    Throwable t = e;
    while (t.getMessage() == null && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
