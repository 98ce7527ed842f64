/**
 * Render backends: clients of the providers' HTTP APIs (Runway, Replicate, Vertex AI Veo) and the
 * local preview encoder, behind one VideoBackend interface.
 */
package com.aiprod.pipeline.render.backends;
