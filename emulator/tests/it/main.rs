//! The emulator's HTTP tests, as one binary: Zoho Accounts, the control API and CRM v8 against a
//! fresh emulator on 127.0.0.1 per test.

mod accounts;
mod activities;
mod activity;
mod control;
mod convert;
mod crm;
mod limits;
mod owners;
mod sdk;
mod support;
mod views;
mod watch;
