/** Stages TechnicalQa and SemanticQa: checks of the rendered MP4s and scores against the plan. */
package com.aiprod.pipeline.qa;
