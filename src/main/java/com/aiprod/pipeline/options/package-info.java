/** Pipeline options (one interface) and their checks before the graph is built. */
package com.aiprod.pipeline.options;
