/** Stage Validate: the job_id and action attributes, then every body rule of DESIGN §2. */
package com.aiprod.pipeline.validate;
