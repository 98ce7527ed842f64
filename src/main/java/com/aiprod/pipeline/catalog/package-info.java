/**
 * The product catalogue shared by stages: the pricing table, money, the shot grid, the router and
 * its route options, admission rules and the Firestore spend ledger of daily caps.
 */
package com.aiprod.pipeline.catalog;
