package com.aiprod.pipeline;

public final class AiprodPipeline {
  public static void main(String[] args) {}
}
