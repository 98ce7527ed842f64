package com.aiprod.pipeline.kernel;

import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.schemas.NoSuchSchemaException;
import org.apache.beam.sdk.schemas.SchemaRegistry;

/** Schema coders of our value types, for state specs (which do not infer schema coders). */
public final class Coders {
  private static final SchemaRegistry REGISTRY = SchemaRegistry.createDefault();

  private Coders() {}

  public static <T> Coder<T> schema(Class<T> type) {
    try {
      return REGISTRY.getSchemaCoder(type);
    } catch (NoSuchSchemaException e) {
      throw new IllegalStateException(type.getName() + " has no Beam schema", e);
    }
  }
}
