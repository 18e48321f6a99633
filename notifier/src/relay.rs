//! Relay lists: for each alert and affected village, the registered
//! residents a village chief (村里長) must phone or visit — people without a
//! smartphone, older or disabled people, people who need another language —
//! with a per-person acknowledgement and a per-alert summary.
//! Entries still unacknowledged a configurable time after the list was
//! issued escalate to the town office.
//!
//! Names, phone numbers and addresses are personal data: their `Debug`
//! output is redacted, and lists go only to the chief of their own village
//! (the service checks who asks).
//!
//! Time is passed in (`now`), never read from the system clock here, so
//! escalation is testable and replayable.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::locale::Locale;
use crate::notice::{AlertVersion, PhoneNumber, SubscriberId};
use crate::render::{Renderer, format_taipei};

/// Why someone needs a call or a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayNeed {
    NoSmartphone,
    Elderly,
    Disabled,
    /// Speaks little Chinese; their language is the resident's locale.
    Language,
}

impl RelayNeed {
    fn message_id(self) -> &'static str {
        match self {
            RelayNeed::NoSmartphone => "relay-need-no-smartphone",
            RelayNeed::Elderly => "relay-need-elderly",
            RelayNeed::Disabled => "relay-need-disabled",
            RelayNeed::Language => "relay-need-language",
        }
    }
}

/// A resident registered for relay.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    pub subscriber: SubscriberId,
    pub name: String,
    pub phone: PhoneNumber,
    pub address: String,
    pub locale: Locale,
    pub needs: Vec<RelayNeed>,
    pub village_code: String,
    pub village_name: String,
    pub town_code: String,
}

impl fmt::Debug for Resident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resident")
            .field("subscriber", &self.subscriber)
            .field("name", &"<redacted>")
            .field("phone", &self.phone)
            .field("address", &"<redacted>")
            .field("locale", &self.locale)
            .field("needs", &self.needs)
            .field("village_code", &self.village_code)
            .finish()
    }
}

/// What the chief found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    Reached,
    NotReached,
    Evacuated,
    NeedsHelp,
}

impl AckStatus {
    fn message_id(self) -> &'static str {
        match self {
            AckStatus::Reached => "relay-ack-reached",
            AckStatus::NotReached => "relay-ack-not-reached",
            AckStatus::Evacuated => "relay-ack-evacuated",
            AckStatus::NeedsHelp => "relay-ack-needs-help",
        }
    }

    /// Whether the entry is settled. `NotReached` is not: someone must try
    /// again, so it escalates like no acknowledgement at all.
    pub fn settles(self) -> bool {
        !matches!(self, AckStatus::NotReached)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub status: AckStatus,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayEntry {
    pub resident: Resident,
    pub ack: Option<Acknowledgement>,
    /// When the entry was escalated to the town office, if it was.
    pub escalated_at: Option<DateTime<Utc>>,
}

/// One village's relay list for one alert version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayList {
    pub alert: AlertVersion,
    pub village_code: String,
    pub village_name: String,
    pub town_code: String,
    pub issued_at: DateTime<Utc>,
    pub entries: Vec<RelayEntry>,
}

/// Acknowledgement counts for one alert (or one list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelaySummary {
    pub total: usize,
    pub reached: usize,
    pub not_reached: usize,
    pub evacuated: usize,
    pub needs_help: usize,
    pub unacknowledged: usize,
}

/// Entries a town office must follow up, per village.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub town_code: String,
    pub village_code: String,
    pub subscribers: Vec<SubscriberId>,
}

/// Why an acknowledgement was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("no relay list for village {village} of alert {alert}")]
    UnknownList { alert: String, village: String },
    #[error("subscriber {subscriber} is not on the relay list of village {village}")]
    UnknownResident { subscriber: String, village: String },
}

/// Relay lists by alert and village.
#[derive(Debug, Default)]
pub struct RelayBook {
    lists: BTreeMap<(AlertVersion, String), RelayList>,
}

impl RelayBook {
    pub fn new() -> Self {
        RelayBook::default()
    }

    /// Issues the lists for `alert`: every resident registered in one of the
    /// affected villages, grouped by village. Residents without any need are
    /// left out (their phones are reached directly). Re-issuing keeps the
    /// acknowledgements already given.
    pub fn issue<'a>(
        &mut self,
        alert: &AlertVersion,
        residents: impl IntoIterator<Item = &'a Resident>,
        affected_villages: &[&str],
        now: DateTime<Utc>,
    ) -> Vec<&RelayList> {
        for resident in residents {
            if resident.needs.is_empty()
                || !affected_villages.contains(&resident.village_code.as_str())
            {
                continue;
            }
            let list = self
                .lists
                .entry((alert.clone(), resident.village_code.clone()))
                .or_insert_with(|| RelayList {
                    alert: alert.clone(),
                    village_code: resident.village_code.clone(),
                    village_name: resident.village_name.clone(),
                    town_code: resident.town_code.clone(),
                    issued_at: now,
                    entries: Vec::new(),
                });
            if !list
                .entries
                .iter()
                .any(|e| e.resident.subscriber == resident.subscriber)
            {
                list.entries.push(RelayEntry {
                    resident: resident.clone(),
                    ack: None,
                    escalated_at: None,
                });
            }
        }
        self.lists
            .range((alert.clone(), String::new())..)
            .take_while(|((a, _), _)| a == alert)
            .map(|(_, l)| l)
            .collect()
    }

    pub fn list(&self, alert: &AlertVersion, village_code: &str) -> Option<&RelayList> {
        self.lists.get(&(alert.clone(), village_code.to_string()))
    }

    /// Records what the chief found for one resident.
    pub fn acknowledge(
        &mut self,
        alert: &AlertVersion,
        village_code: &str,
        subscriber: &SubscriberId,
        status: AckStatus,
        now: DateTime<Utc>,
    ) -> Result<(), RelayError> {
        let list = self
            .lists
            .get_mut(&(alert.clone(), village_code.to_string()))
            .ok_or_else(|| RelayError::UnknownList {
                alert: alert.0.clone(),
                village: village_code.to_string(),
            })?;
        let entry = list
            .entries
            .iter_mut()
            .find(|e| &e.resident.subscriber == subscriber)
            .ok_or_else(|| RelayError::UnknownResident {
                subscriber: subscriber.0.clone(),
                village: village_code.to_string(),
            })?;
        entry.ack = Some(Acknowledgement { status, at: now });
        Ok(())
    }

    /// Counts over every village of `alert`.
    pub fn summary(&self, alert: &AlertVersion) -> RelaySummary {
        let mut summary = RelaySummary::default();
        for ((a, _), list) in &self.lists {
            if a == alert {
                for entry in &list.entries {
                    summary.total += 1;
                    match entry.ack.as_ref().map(|a| a.status) {
                        None => summary.unacknowledged += 1,
                        Some(AckStatus::Reached) => summary.reached += 1,
                        Some(AckStatus::NotReached) => summary.not_reached += 1,
                        Some(AckStatus::Evacuated) => summary.evacuated += 1,
                        Some(AckStatus::NeedsHelp) => summary.needs_help += 1,
                    }
                }
            }
        }
        summary
    }

    /// Entries unsettled `after` their list was issued and not escalated
    /// yet; marks them escalated, so each is escalated once.
    pub fn escalate(&mut self, now: DateTime<Utc>, after: Duration) -> Vec<Escalation> {
        let mut escalations = Vec::new();
        for list in self.lists.values_mut() {
            if now - list.issued_at < after {
                continue;
            }
            let mut subscribers = Vec::new();
            for entry in &mut list.entries {
                let settled = entry.ack.as_ref().is_some_and(|a| a.status.settles());
                if !settled && entry.escalated_at.is_none() {
                    entry.escalated_at = Some(now);
                    subscribers.push(entry.resident.subscriber.clone());
                }
            }
            if !subscribers.is_empty() {
                escalations.push(Escalation {
                    town_code: list.town_code.clone(),
                    village_code: list.village_code.clone(),
                    subscribers,
                });
            }
        }
        escalations
    }
}

/// Column headings and cell words for lists, in the chief's locale.
struct Words {
    columns: [String; 6],
}

fn words(renderer: &Renderer, locale: Locale) -> Words {
    let word = |id: &str| renderer.fixed_text(locale, id).unwrap_or(id).to_string();
    Words {
        columns: [
            word("relay-col-name"),
            word("relay-col-phone"),
            word("relay-col-address"),
            word("relay-col-needs"),
            word("relay-col-language"),
            word("relay-col-status"),
        ],
    }
}

fn needs_text(renderer: &Renderer, locale: Locale, needs: &[RelayNeed]) -> String {
    needs
        .iter()
        .map(|n| {
            renderer
                .fixed_text(locale, n.message_id())
                .unwrap_or(n.message_id())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn status_text<'a>(
    renderer: &'a Renderer,
    locale: Locale,
    ack: Option<&Acknowledgement>,
) -> &'a str {
    let id = ack
        .map(|a| a.status.message_id())
        .unwrap_or("relay-ack-none");
    renderer.fixed_text(locale, id).unwrap_or("")
}

impl RelayList {
    pub fn summary(&self) -> RelaySummary {
        let mut book = RelayBook::new();
        book.lists.insert(
            (self.alert.clone(), self.village_code.clone()),
            self.clone(),
        );
        book.summary(&self.alert)
    }

    /// The list as CSV (UTF-8 with a byte-order mark, so spreadsheet
    /// programs on Windows open Chinese text correctly).
    pub fn to_csv(&self, renderer: &Renderer, locale: Locale) -> Result<String, csv::Error> {
        let w = words(renderer, locale);
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&w.columns)?;
        for entry in &self.entries {
            let r = &entry.resident;
            writer.write_record([
                r.name.as_str(),
                r.phone.expose(),
                r.address.as_str(),
                &needs_text(renderer, locale, &r.needs),
                r.locale.tag(),
                status_text(renderer, locale, entry.ack.as_ref()),
            ])?;
        }
        let bytes = writer.into_inner().map_err(|e| e.into_error())?;
        Ok(format!("\u{FEFF}{}", String::from_utf8_lossy(&bytes)))
    }

    /// A printable HTML page: heading, summary, one row per person with
    /// boxes to tick by hand.
    pub fn to_html(&self, renderer: &Renderer, locale: Locale) -> String {
        let w = words(renderer, locale);
        let title = renderer.fixed_text(locale, "relay-title").unwrap_or("");
        let issued = renderer.fixed_text(locale, "relay-issued").unwrap_or("");
        let mut html = String::with_capacity(2048 + self.entries.len() * 256);
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} {}</title>\
             <style>body{{font-family:sans-serif}}table{{border-collapse:collapse;width:100%}}\
             td,th{{border:1px solid #000;padding:4px;text-align:left}}@media print{{a{{color:#000}}}}</style>\
             </head><body>\n<h1>{} {}</h1>\n<p>{}: {} · {}</p>\n<table><thead><tr>",
            locale.tag(),
            escape(title),
            escape(&self.village_name),
            escape(title),
            escape(&self.village_name),
            escape(issued),
            format_taipei(self.issued_at.fixed_offset()),
            escape(&self.alert.0),
        );
        for column in &w.columns {
            let _ = write!(html, "<th>{}</th>", escape(column));
        }
        html.push_str("</tr></thead><tbody>\n");
        for entry in &self.entries {
            let r = &entry.resident;
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td><a href=\"tel:{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.name),
                escape(r.phone.expose()),
                escape(r.phone.expose()),
                escape(&r.address),
                escape(&needs_text(renderer, locale, &r.needs)),
                escape(r.locale.tag()),
                escape(status_text(renderer, locale, entry.ack.as_ref())),
            );
        }
        html.push_str("</tbody></table>\n</body></html>\n");
        html
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
