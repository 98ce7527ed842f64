/**
 * AIPROD Pipeline: {@code AiprodPipeline} wires the graph (docs/ARCHITECTURE.md). Below it, stage
 * packages (ingest, auth, validate, admit, price, plan, render, assemble, qa, decide, persist,
 * audit) import only the shared packages (model, kernel, catalog, media, jobstore, secrets,
 * vertex), never each other; {@code PackageStructureTest} checks it.
 */
package com.aiprod.pipeline;
