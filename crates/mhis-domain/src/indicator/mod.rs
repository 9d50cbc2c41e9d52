//! Monitoring indicators: the catalogue (data, `indicators/*.toml`), the
//! disaggregations, the fact rows indicators count, small-cell suppression,
//! and a reference evaluator.
//!
//! - [`catalogue`] reads indicator definitions: numerator and denominator
//!   as filters over fact rows, a unit (count, percent, per 100,000, median
//!   or 90th-percentile days), an optional split (one value per outcome or
//!   TB class) and the source of each definition.
//! - [`dims`] holds the disaggregations: site, nationality, destination,
//!   sex, age group (0–14, 15–24, 25–49, 50+) and period (day, ISO week,
//!   month, quarter, year, written as DHIS2 period identifiers).
//! - [`facts`] turns one assessment (or one referral) into the fact row
//!   that indicators count: its dimensions, its flags (`cxr_suggestive`,
//!   `tb_bact_confirmed`…), its attributes (outcome, TB class) and its
//!   measures (days to certificate, days to outcome).
//! - [`evaluate`] computes an indicator over fact rows by brute force, with
//!   suppression. Storage keeps aggregates current for speed; this
//!   evaluator is the definition they are tested against.
//! - [`cube`] is the live aggregate storage keeps current at each write:
//!   the terms a row counts under, the deltas of a change, the planning of
//!   a query over day, week and month grains, and its evaluation.
//! - [`dhis2`] maps indicators and disaggregations to DHIS2 data elements,
//!   category option combos and org units, and writes dataValueSets JSON
//!   and ADX XML.

pub mod catalogue;
pub mod cube;
pub mod dhis2;
pub mod dims;
pub mod evaluate;
pub mod facts;

pub use catalogue::{Catalogue, Indicator, Unit};
pub use cube::{CubeQuery, CubeSum, Grain, evaluate_cube, plan};
pub use dims::{AgeGroup, Dimension, PeriodKind};
pub use evaluate::{Cell, Filter, evaluate};
pub use facts::{FactKind, FactRow};
