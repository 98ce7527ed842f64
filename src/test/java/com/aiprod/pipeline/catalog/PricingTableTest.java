package com.aiprod.pipeline.catalog;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PricingTableTest {
  private static final String BACKEND =
      "{\"id\": \"b1\", \"api\": \"x\", \"usd_per_second\": 0.1, \"prior_quality\": 0.8,"
          + " \"clip_seconds\": [5]}";

  private static PricingTable parse(String json) {
    return PricingTable.parse(json.getBytes(UTF_8), "test.json");
  }

  private static String malformed(String json) {
    return assertThrows(IllegalArgumentException.class, () -> parse(json)).getMessage();
  }

  @Test
  void classpathTableHasDesignValues() {
    PricingTable t = PricingTable.load(null);
    assertThat(t.asOf(), equalTo("2026-11-01"));
    assertThat(t.source(), equalTo("classpath:pricing.json"));
    assertThat(
        t.ids(), contains("replicate_wan", "runway_gen4_turbo", "veo3_fast", "veo3", "preview"));
    PricingTable.Backend runway = t.get("runway_gen4_turbo");
    assertThat(runway.api(), equalTo("runway"));
    assertThat(runway.usdPerSecond(), equalTo(0.05));
    assertThat(runway.priorQuality(), equalTo(0.85));
    assertThat(runway.clipSeconds(), contains(5, 10));
    assertThat(runway.modes(), contains("final", "estimate"));
    assertThat(runway.isFinalRenderer(), is(true));
    assertThat(t.get("replicate_wan").usdPerSecond(), equalTo(0.02));
    assertThat(t.get("replicate_wan").priorQuality(), equalTo(0.70));
    assertThat(t.get("veo3_fast").usdPerSecond(), equalTo(0.15));
    assertThat(t.get("veo3_fast").priorQuality(), equalTo(0.88));
    assertThat(t.get("veo3").usdPerSecond(), equalTo(0.40));
    assertThat(t.get("veo3").priorQuality(), equalTo(0.93));
    assertThat(t.get("veo3").clipSeconds(), contains(8));
    PricingTable.Backend preview = t.get("preview");
    assertThat(preview.priorQuality(), nullValue());
    assertThat(preview.usdPerSecond(), equalTo(0.0));
    assertThat(preview.isPreviewOnly(), is(true));
    assertThat(preview.isFinalRenderer(), is(false));
    assertThat(PricingTable.builtIn().ids(), equalTo(t.ids()));
    assertThat(PricingTable.load("  ").ids(), equalTo(t.ids()));
  }

  @Test
  void modelIsOptionalAndChecked() {
    PricingTable t = PricingTable.load(null);
    assertThat(t.get("veo3").model(), equalTo("veo-3.0-generate-001"));
    assertThat(t.get("veo3_fast").model(), equalTo("veo-3.0-fast-generate-001"));
    assertThat(t.get("runway_gen4_turbo").model(), equalTo("gen4_turbo"));
    assertThat(t.get("replicate_wan").model(), equalTo("wan-video/wan-2.2-t2v-fast"));
    assertThat(t.get("preview").model(), nullValue());
    assertThat(
        parse("{\"as_of\": \"2026-11-01\", \"backends\": [" + BACKEND + "]}").get("b1").model(),
        nullValue());
    String bad =
        BACKEND.replace("\"api\": \"x\",", "\"api\": \"x\", \"model\": \"../etc passwd\",");
    assertThat(
        malformed("{\"as_of\": \"2026-11-01\", \"backends\": [" + bad + "]}"),
        containsString("backends[0].model: must be a model name"));
  }

  @Test
  void loadsAFileAndDefaultsModes(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("p.json");
    Files.writeString(f, "{\"as_of\": \"2027-01-31\", \"backends\": [" + BACKEND + "]}");
    PricingTable t = PricingTable.load(f.toString());
    assertThat(t.asOf(), equalTo("2027-01-31"));
    assertThat(t.source(), equalTo(f.toString()));
    assertThat(t.get("b1").modes(), contains("final", "estimate"));
  }

  @Test
  void missingFileNamesThePath(@TempDir Path dir) {
    String path = dir.resolve("nope.json").toString();
    String msg =
        assertThrows(IllegalArgumentException.class, () -> PricingTable.load(path)).getMessage();
    assertThat(msg, allOf(containsString(path), containsString("not found")));
  }

  @Test
  void notJsonNamesFileAndPosition() {
    assertThat(
        malformed("{\"as_of\": "),
        allOf(
            containsString("test.json"),
            containsString("not valid JSON"),
            containsString("line 1")));
    assertThat(malformed("[]"), containsString("must be a JSON object"));
  }

  @Test
  void everyBadFieldIsNamed() {
    String msg =
        malformed(
            "{\"as_of\": \"Nov 2026\", \"currency\": \"EUR\", \"extra\": 1,"
                + " \"backends\": [{\"id\": \"B 1\", \"api\": \"\", \"usd_per_second\": -1,"
                + " \"prior_quality\": 1.5, \"clip_seconds\": [0, 2.5], \"modes\": [\"draft\"],"
                + " \"usd_per_sec\": 1}]}");
    assertThat(
        msg,
        allOf(
            containsString("pricing file test.json is malformed"),
            containsString("as_of: \"Nov 2026\" is not an ISO date"),
            containsString("currency: must be \"USD\""),
            containsString("extra: unknown key"),
            containsString("backends[0].id"),
            containsString("backends[0].api"),
            containsString("backends[0].usd_per_second"),
            containsString("backends[0].prior_quality"),
            containsString("backends[0].clip_seconds: 0 is not an integer 1–60"),
            containsString("backends[0].clip_seconds: 2.5"),
            containsString("backends[0].modes: \"draft\""),
            containsString("backends[0].usd_per_sec: unknown key")));
  }

  @Test
  void requiredFields() {
    assertThat(malformed("{\"backends\": [" + BACKEND + "]}"), containsString("as_of: required"));
    assertThat(malformed("{\"as_of\": \"2026-11-01\"}"), containsString("backends: required"));
    assertThat(
        malformed(
            "{\"as_of\": \"2026-11-01\", \"backends\": [{\"id\": \"b\","
                + " \"api\": \"x\", \"usd_per_second\": 0.1, \"clip_seconds\": []}]}"),
        allOf(
            containsString("backends[0].prior_quality: required"),
            containsString("backends[0].clip_seconds: must not be empty")));
  }

  @Test
  void duplicateIdsAndKeysAreRejected() {
    assertThat(
        malformed("{\"as_of\": \"2026-11-01\", \"backends\": [" + BACKEND + ", " + BACKEND + "]}"),
        containsString("backends[1].id: duplicate id \"b1\""));
    assertThat(
        malformed(
            "{\"as_of\": \"2026-11-01\", \"as_of\": \"2026-11-02\","
                + " \"backends\": ["
                + BACKEND
                + "]}"),
        containsString("Duplicate field"));
  }

  @Test
  void parseRenderBackends() {
    PricingTable t = PricingTable.builtIn();
    assertThat(t.parseRenderBackends(null), contains("preview"));
    assertThat(t.parseRenderBackends(""), contains("preview"));
    assertThat(t.parseRenderBackends(" veo3 , preview,veo3,"), contains("veo3", "preview"));
    String msg =
        assertThrows(IllegalArgumentException.class, () -> t.parseRenderBackends("veo3,sora"))
            .getMessage();
    assertThat(msg, allOf(containsString("[sora]"), containsString("known in")));
  }

  @Test
  void isSerializable() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(PricingTable.builtIn());
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      PricingTable copy = (PricingTable) in.readObject();
      assertThat(copy.ids(), equalTo(PricingTable.builtIn().ids()));
      assertThat(copy.get("veo3").usdPerSecond(), equalTo(0.40));
    }
  }
}
