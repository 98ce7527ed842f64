/**
 * Stage ReadRequests (files or Pub/Sub, envelope and size checks) and the end of the graph that
 * acknowledges messages once their outcome is durable (AcknowledgeOutcomes, PendingAcks).
 */
package com.aiprod.pipeline.ingest;
