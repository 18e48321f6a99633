//! Relief steps: after an event, what people in a place can apply for,
//! where, with what, and by when — in every locale.
//!
//! The catalogue is a TOML file (format documented at the top of
//! `notifier/relief/demo.toml`, the fictional demo the repository ships).
//! Loading checks that every text exists in all eight locales, that hazard
//! names are known and that dates parse, and names the step and field at
//! fault otherwise.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cap::HazardKind;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::locale::Locale;
use crate::render::Renderer;

/// The demo catalogue shipped with the repository (fictional throughout).
pub const DEMO_CATALOGUE: &str = include_str!("../relief/demo.toml");

/// Why a catalogue did not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("relief catalogue: {0}")]
    Syntax(String),
    #[error("relief step {step:?}: field `{field}` has no {locale} text")]
    MissingLocale {
        step: String,
        field: &'static str,
        locale: Locale,
    },
    #[error("relief step {step:?}: {problem}")]
    Invalid { step: String, problem: String },
    #[error("relief step id {0:?} appears twice")]
    DuplicateId(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    hazards: Vec<HazardKind>,
    county: String,
    #[serde(default)]
    towns: Vec<String>,
    phone: String,
    url: String,
    deadline_days: Option<u32>,
    deadline: Option<String>,
    title: BTreeMap<Locale, String>,
    office: BTreeMap<Locale, String>,
    address: BTreeMap<Locale, String>,
    documents: BTreeMap<Locale, Vec<String>>,
}

/// When applications close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// This many days after the event.
    DaysAfterEvent(u32),
    On(NaiveDate),
}

/// One relief step, with its texts in every locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReliefStep {
    pub id: String,
    pub hazards: Vec<HazardKind>,
    pub county: String,
    /// Empty: the whole county.
    pub towns: Vec<String>,
    pub phone: String,
    pub url: String,
    pub deadline: Option<Deadline>,
    title: BTreeMap<Locale, String>,
    office: BTreeMap<Locale, String>,
    address: BTreeMap<Locale, String>,
    documents: BTreeMap<Locale, Vec<String>>,
}

/// A relief step in one locale, for one event date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedStep<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub office: &'a str,
    pub address: &'a str,
    pub phone: &'a str,
    pub url: &'a str,
    pub documents: &'a [String],
    pub apply_by: Option<NaiveDate>,
}

impl ReliefStep {
    /// The step in `locale`; `event` dates relative deadlines.
    pub fn localize(&self, locale: Locale, event: NaiveDate) -> LocalizedStep<'_> {
        fn pick(map: &BTreeMap<Locale, String>, locale: Locale) -> &str {
            map.get(&locale)
                .or_else(|| map.get(&Locale::En))
                .map(String::as_str)
                .unwrap_or("")
        }
        // Loading guarantees every locale is present; English backs up any
        // map built otherwise.
        LocalizedStep {
            id: &self.id,
            title: pick(&self.title, locale),
            office: pick(&self.office, locale),
            address: pick(&self.address, locale),
            phone: &self.phone,
            url: &self.url,
            documents: self
                .documents
                .get(&locale)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            apply_by: match self.deadline {
                Some(Deadline::DaysAfterEvent(days)) => {
                    event.checked_add_signed(Duration::days(i64::from(days)))
                }
                Some(Deadline::On(date)) => Some(date),
                None => None,
            },
        }
    }
}

/// The relief catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalogue {
    steps: Vec<ReliefStep>,
}

fn require_all<T>(
    step: &str,
    field: &'static str,
    map: &BTreeMap<Locale, T>,
    empty: impl Fn(&T) -> bool,
) -> Result<(), CatalogueError> {
    for locale in Locale::ALL {
        if map.get(&locale).is_none_or(&empty) {
            return Err(CatalogueError::MissingLocale {
                step: step.to_string(),
                field,
                locale,
            });
        }
    }
    Ok(())
}

impl Catalogue {
    /// Parses and checks a catalogue.
    pub fn from_toml(text: &str) -> Result<Self, CatalogueError> {
        let raw: RawCatalogue =
            toml::from_str(text).map_err(|e| CatalogueError::Syntax(e.to_string()))?;
        let mut steps: Vec<ReliefStep> = Vec::with_capacity(raw.step.len());
        for step in raw.step {
            let id = step.id;
            if steps.iter().any(|s| s.id == id) {
                return Err(CatalogueError::DuplicateId(id));
            }
            require_all(&id, "title", &step.title, |t| t.trim().is_empty())?;
            require_all(&id, "office", &step.office, |t| t.trim().is_empty())?;
            require_all(&id, "address", &step.address, |t| t.trim().is_empty())?;
            require_all(&id, "documents", &step.documents, |d| d.is_empty())?;
            let invalid = |problem: String| CatalogueError::Invalid {
                step: id.clone(),
                problem,
            };
            if step.hazards.is_empty() {
                return Err(invalid("no hazards".into()));
            }
            let deadline = match (step.deadline_days, step.deadline) {
                (Some(_), Some(_)) => {
                    return Err(invalid("both deadline and deadline_days".into()));
                }
                (Some(days), None) => Some(Deadline::DaysAfterEvent(days)),
                (None, Some(date)) => {
                    Some(Deadline::On(date.parse().map_err(|_| {
                        invalid(format!("deadline {date:?} is not YYYY-MM-DD"))
                    })?))
                }
                (None, None) => None,
            };
            if !step.url.starts_with("https://") {
                return Err(invalid(format!("url {:?} is not https", step.url)));
            }
            steps.push(ReliefStep {
                id,
                hazards: step.hazards,
                county: step.county,
                towns: step.towns,
                phone: step.phone,
                url: step.url,
                deadline,
                title: step.title,
                office: step.office,
                address: step.address,
                documents: step.documents,
            });
        }
        Ok(Catalogue { steps })
    }

    /// The demo catalogue.
    pub fn demo() -> Result<Self, CatalogueError> {
        Catalogue::from_toml(DEMO_CATALOGUE)
    }

    pub fn steps(&self) -> &[ReliefStep] {
        &self.steps
    }

    /// Steps for `hazard` in `town` of `county`: the town's own steps first,
    /// then the county-wide ones, each in catalogue order.
    pub fn steps_for(&self, hazard: HazardKind, county: &str, town: &str) -> Vec<&ReliefStep> {
        let applies = |s: &&ReliefStep| s.county == county && s.hazards.contains(&hazard);
        let own = self
            .steps
            .iter()
            .filter(applies)
            .filter(|s| s.towns.iter().any(|t| t == town));
        let county_wide = self
            .steps
            .iter()
            .filter(applies)
            .filter(|s| s.towns.is_empty());
        own.chain(county_wide).collect()
    }
}

/// Plain text listing of steps for an e-mail or a printed notice.
pub fn steps_text(renderer: &Renderer, locale: Locale, steps: &[LocalizedStep<'_>]) -> String {
    let label = |id: &str| renderer.fixed_text(locale, id).unwrap_or(id).to_string();
    let mut text = String::new();
    for step in steps {
        let _ = writeln!(text, "■ {}", step.title);
        let _ = writeln!(text, "  {}: {}", label("relief-col-office"), step.office);
        let _ = writeln!(text, "  {}: {}", label("relief-col-phone"), step.phone);
        let _ = writeln!(text, "  {}: {}", label("relief-col-address"), step.address);
        let _ = writeln!(
            text,
            "  {}: {}",
            label("relief-col-documents"),
            step.documents.join(", ")
        );
        if let Some(date) = step.apply_by {
            let _ = writeln!(
                text,
                "  {}: {}",
                label("relief-col-deadline"),
                date.format("%Y-%m-%d")
            );
        }
        let _ = writeln!(text, "  {}", step.url);
    }
    text
}
