package com.aiprod.pipeline.options;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@code templates/metadata.json} is the spec generated from the options' annotations. */
class TemplateSpecTest {
  static final Path METADATA = Path.of("templates/metadata.json");

  /**
   * The committed spec is the generated one. After changing an option's {@code @TemplateParameter}:
   * {@code mvn -o -q -B test -Dtest=TemplateSpecTest -Dsurefire.failIfNoSpecifiedTests=false
   * -Daiprod.regenerateTemplateSpec=true}, then review {@code git diff templates/}.
   */
  @Test
  void theCommittedSpecIsTheGeneratedOne() throws Exception {
    String generated = TemplateSpec.generate();
    if (Boolean.getBoolean("aiprod.regenerateTemplateSpec")) {
      Files.writeString(METADATA, generated, StandardCharsets.UTF_8);
    }
    assertThat(
        "templates/metadata.json is generated from AiprodOptions' @TemplateParameter annotations:"
            + " regenerate it with -Daiprod.regenerateTemplateSpec=true (see this test)",
        Files.readString(METADATA, StandardCharsets.UTF_8),
        equalTo(generated));
  }

  static final Path README = Path.of("templates/README.md");

  /** The template's parameter reference is generated too (same regeneration flag). */
  @Test
  void theCommittedParameterReferenceIsTheGeneratedOne() throws Exception {
    String generated = TemplateSpec.markdown();
    if (Boolean.getBoolean("aiprod.regenerateTemplateSpec")) {
      Files.writeString(README, generated, StandardCharsets.UTF_8);
    }
    assertThat(
        "templates/README.md is generated: regenerate it with -Daiprod.regenerateTemplateSpec=true",
        Files.readString(README, StandardCharsets.UTF_8),
        equalTo(generated));
  }

  @Test
  void parametersHaveDistinctNamesAndOrders() {
    List<TemplateSpec.Parameter> ps = TemplateSpec.parameters();
    assertThat(
        ps.stream().map(TemplateSpec.Parameter::name).distinct().count(),
        equalTo((long) ps.size()));
    assertThat(
        ps.stream().map(TemplateSpec.Parameter::order).distinct().count(),
        equalTo((long) ps.size()));
  }

  @Test
  void aRequiredParameterHasNoDefaultEvenWhenTheOptionHasOne() {
    List<String> withDefaults =
        TemplateSpec.parameters().stream()
            .filter(p -> p.defaultValue() != null)
            .map(TemplateSpec.Parameter::name)
            .collect(Collectors.toList());
    assertThat(withDefaults, not(hasItem("environment")));
    assertThat(withDefaults, hasItem("renderBackends"));
  }
}
