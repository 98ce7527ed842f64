/** Vertex AI clients (Gemini) for planning and semantic QA. */
package com.aiprod.pipeline.vertex;
