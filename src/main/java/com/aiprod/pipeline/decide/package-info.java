/** Stage Decide: DELIVERED, NEEDS_REVIEW or REJECTED from the QA scores (DESIGN §6). */
package com.aiprod.pipeline.decide;
