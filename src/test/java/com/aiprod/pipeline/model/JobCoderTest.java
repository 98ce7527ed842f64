package com.aiprod.pipeline.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.Test;

class JobCoderTest {
  /** Every property set, none at its default: a field the coder drops shows as a difference. */
  static Job full() {
    JobRequest request =
        JobRequest.builder()
            .setContent("Ein Café für Sätze — 咖啡")
            .setPreset("brand_campaign")
            .setMode("estimate")
            .setPriority("high")
            .setLang("de")
            .setDurationSec(60)
            .setBudgetUsd(12.5)
            .setBrandId("brand-1")
            .setStyle("noir")
            .setMood("calm")
            .setCameraStyle("dolly")
            .setColorPalette("teal")
            .setAspectRatio("9:16")
            .setFps(30)
            .setBackend("veo")
            .build();
    return Job.builder()
        .setMessageId("m-1")
        .setJobId("job-00000001")
        .setTenant("acme")
        .setUid("u-1")
        .setRole("admin")
        .setPlan("enterprise")
        .setReceivedAtMillis(1_764_000_000_123L)
        .setState("DELIVERED")
        .setReasonCode("BUDGET_EXCEEDED")
        .setReason("why")
        .setRequest(request)
        .setBackend("veo")
        .setFallbackBackends(List.of("runway", "local"))
        .setEstimateUsd(1.25)
        .setCostUsd(2.5)
        .setProviderCostUsd(3.75)
        .setClipSeconds(8.0)
        .setShots(List.of(ShotSpec.create(0, 8.0, "first", 7L), ShotSpec.create(1, 4.5, "b", -3L)))
        .setPlanner("local-sentence-planner")
        .setShotsDone(2)
        .setShotUris(List.of("gs://b/0.mp4", "gs://b/1.mp4"))
        .setQaTechnical(0.9)
        .setQaSemantic(0.8)
        .setQaSemanticScorer("coverage")
        .setVideoUri("gs://b/final.mp4")
        .setManifestUri("gs://b/manifest.json")
        .setContactSheetUri("gs://b/contact_sheet.png")
        .setHistory(
            List.of(
                HistoryEntry.create("RECEIVED", 1L, "in"),
                HistoryEntry.create("DELIVERED", 2L, "out")))
        .setFinishedAtMillis(1_764_000_009_000L)
        .setOrdinal(42L)
        .setInputPayload("x".repeat(70_000))
        .setAction("cancel")
        .setCancelMessageId("m-2")
        .build();
  }

  @Test
  void everyPropertyOfTheCodedClassesIsWritten() {
    Set<String> properties = new TreeSet<>();
    for (Class<?> c : List.of(Job.class, JobRequest.class, ShotSpec.class, HistoryEntry.class)) {
      for (Method m : c.getDeclaredMethods()) {
        if (Modifier.isAbstract(m.getModifiers())
            && m.getParameterCount() == 0
            && m.getName().startsWith("get")) {
          String name = m.getName().substring(3);
          properties.add(
              c.getSimpleName() + "." + Character.toLowerCase(name.charAt(0)) + name.substring(1));
        }
      }
    }
    assertThat(new TreeSet<>(JobCoder.FIELDS), equalTo(properties));
  }

  @Test
  void theFullJobSetsEveryProperty() throws Exception {
    Job job = full();
    for (Method m : Job.class.getDeclaredMethods()) {
      if (Modifier.isAbstract(m.getModifiers())
          && m.getParameterCount() == 0
          && m.getName().startsWith("get")) {
        Object v = m.invoke(job);
        assertThat(m.getName(), v, notNullValue());
        assertThat(m.getName(), v, not(equalTo(m.invoke(minimal()))));
      }
    }
  }

  @Test
  void roundTripsEqualAndDeterministic() throws Exception {
    for (Job job : List.of(full(), minimal())) {
      byte[] bytes = CoderUtils.encodeToByteArray(JobCoder.of(), job);
      Job back = CoderUtils.decodeFromByteArray(JobCoder.of(), bytes);
      assertThat(back, equalTo(job));
      assertThat(CoderUtils.encodeToByteArray(JobCoder.of(), back), equalTo(bytes));
    }
    // Nested (inside a KV, as at a GroupByKey): self-delimiting.
    KvCoder<String, Job> kv = KvCoder.of(StringUtf8Coder.of(), JobCoder.of());
    KV<String, Job> pair = KV.of("acme/job-00000001", full());
    assertThat(CoderUtils.clone(kv, pair), equalTo(pair));
    JobCoder.of().verifyDeterministic();
  }

  @Test
  void aChangedFieldChangesTheBytes() throws Exception {
    byte[] a = CoderUtils.encodeToByteArray(JobCoder.of(), full());
    byte[] b =
        CoderUtils.encodeToByteArray(
            JobCoder.of(),
            full().toBuilder().setShots(new ArrayList<>(full().getShots().subList(0, 1))).build());
    assertThat(Arrays.equals(a, b), equalTo(false));
  }

  @Test
  void truncatedBytesFail() throws Exception {
    byte[] bytes = CoderUtils.encodeToByteArray(JobCoder.of(), full());
    byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
    assertThrows(
        IOException.class, () -> JobCoder.of().decode(new java.io.ByteArrayInputStream(cut)));
  }

  @Test
  void everyPCollectionOfJobsUsesIt() throws Exception {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    assertThat(p.getCoderRegistry().getCoder(Job.class), instanceOf(JobCoder.class));
    PCollection<Job> jobs =
        p.apply(Create.of("a"))
            .apply(
                MapElements.into(TypeDescriptor.of(Job.class))
                    .via(s -> full().toBuilder().setJobId(s).build()));
    assertThat(jobs.getCoder(), instanceOf(JobCoder.class));
  }

  private static Job minimal() {
    return Job.builder()
        .setMessageId("")
        .setJobId("")
        .setTenant("")
        .setUid("")
        .setRole("")
        .setPlan("")
        .setReceivedAtMillis(0)
        .setState("RECEIVED")
        .setRequest(null)
        .setHistory(List.of())
        .setOrdinal(0)
        .build();
  }
}
