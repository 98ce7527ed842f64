/** Stage Plan: shots of the routed backend's clip length, by Gemini or the local planner. */
package com.aiprod.pipeline.plan;
