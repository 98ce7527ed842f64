/** Stage PriceAndRoute: backend choice and estimate, then the per-tenant daily cap. */
package com.aiprod.pipeline.price;
