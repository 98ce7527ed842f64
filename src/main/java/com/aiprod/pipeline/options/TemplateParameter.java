package com.aiprod.pipeline.options;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An option that is also a Flex Template parameter: what the Dataflow console and {@code gcloud}
 * show of it. {@link TemplateSpec} generates {@code templates/metadata.json} from these (as
 * DataflowTemplates generates its specs from its own {@code @TemplateParameter}); the option's
 * {@code @Default} is the parameter's default unless the parameter is required.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TemplateParameter {
  /** Position in the spec (parameters are listed by it). */
  int order();

  /** Short name shown in the console. */
  String label();

  /** What it does and examples, each in backquotes after "Example:" or "Examples:". */
  String helpText();

  /** Console group (Input, Authentication, Outputs, ...). */
  String group();

  /**
   * Dataflow's parameter type ({@code PUBSUB_TOPIC}, {@code GCS_READ_FILE}, {@code NUMBER}, {@code
   * ENUM}, ...), or none (text).
   */
  String paramType() default "";

  /** The values of an {@code ENUM} parameter, in the order the console lists them. */
  String[] enumValues() default {};

  /** Anchored RE2 regexes every value must match; none for {@code ENUM} (its values say it). */
  String[] regexes() default {};

  /** False: required in the template even when the option has a default for local runs. */
  boolean optional() default true;
}
