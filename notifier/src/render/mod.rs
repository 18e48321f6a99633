//! Turning a [`Notice`] into words a recipient understands, in their
//! language, within each channel's length budget.
//!
//! Templates are Fluent files (`notifier/locales/<tag>/notifier.ftl`),
//! compiled into the binary and parsed once when the [`Renderer`] is built.
//! Names that do not depend on the alert (hazards, colours, standard advice,
//! exercise markers) are formatted once there too, so rendering one message
//! formats only the few sentences that carry the alert's own values.
//!
//! What a message says, in order: (exercise marker and note), the hazard,
//! its colour level and the recipient's place; what to do (the agency's
//! instruction in the recipient's language when the alert carried it,
//! the standard advice for the hazard otherwise); the nearest open shelter;
//! until when (Asia/Taipei local time); a link. The agency's original
//! instruction is always kept beside it.
//!
//! Budgets ([`Message::push`], [`Message::sms`], [`Message::email`]) shorten
//! the instruction first and the rest only when that is not enough, so the
//! hazard, level and place survive any budget.

mod compiled;
mod fit;
pub mod sms;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

use cap::{Colour, HazardKind};
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

use crate::locale::Locale;
use crate::notice::{Notice, NoticeKind, RecipientPlace};
pub use sms::SmsEncoding;

/// Taiwan's offset from UTC. Taiwan has kept UTC+8 all year since 1979, so a
/// fixed offset is exact for every alert the system can see.
pub const TAIPEI_OFFSET_SECONDS: i32 = 8 * 3600;

/// The template sources, one per locale, in [`Locale::ALL`] order.
const SOURCES: [(Locale, &str); 8] = [
    (
        Locale::ZhTw,
        include_str!("../../locales/zh-TW/notifier.ftl"),
    ),
    (Locale::En, include_str!("../../locales/en/notifier.ftl")),
    (Locale::Ja, include_str!("../../locales/ja/notifier.ftl")),
    (Locale::Ko, include_str!("../../locales/ko/notifier.ftl")),
    (Locale::Th, include_str!("../../locales/th/notifier.ftl")),
    (Locale::Vi, include_str!("../../locales/vi/notifier.ftl")),
    (Locale::Fil, include_str!("../../locales/fil/notifier.ftl")),
    (Locale::Id, include_str!("../../locales/id/notifier.ftl")),
];

/// Every message id each locale must define; checked when a renderer is built.
pub const MESSAGE_IDS: &[&str] = &[
    "colour-green",
    "colour-yellow",
    "colour-orange",
    "colour-red",
    "advice-all-clear",
    "advice-relief",
    "advice-lowered",
    "title-new",
    "title-update",
    "title-all-clear",
    "title-relief",
    "title-lowered",
    "headline-new",
    "headline-update",
    "headline-all-clear",
    "headline-relief",
    "headline-lowered",
    "headline-in-force",
    "action",
    "shelter",
    "valid-until",
    "details",
    "original-label",
    "exercise-marker",
    "exercise-note",
    "ending-headline",
    "area-circle",
];

/// Messages without variables used outside alert messages (relay lists,
/// relief steps); formatted once and served by [`Renderer::fixed_text`].
pub const FIXED_TEXT_IDS: &[&str] = &[
    "relay-title",
    "relay-issued",
    "relay-col-name",
    "relay-col-phone",
    "relay-col-address",
    "relay-col-needs",
    "relay-col-language",
    "relay-col-status",
    "relay-need-no-smartphone",
    "relay-need-elderly",
    "relay-need-disabled",
    "relay-need-language",
    "relay-ack-none",
    "relay-ack-reached",
    "relay-ack-not-reached",
    "relay-ack-evacuated",
    "relay-ack-needs-help",
    "relief-col-office",
    "relief-col-phone",
    "relief-col-address",
    "relief-col-documents",
    "relief-col-deadline",
    "correction-notice",
    "current-location",
    "area-drawn",
];

/// The variables templates may use.
const VARIABLES: &[&str] = &[
    "hazard",
    "colour",
    "place",
    "instruction",
    "shelter",
    "distance",
    "time",
    "link",
];

/// Why templates could not be loaded or a message could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("templates for {locale}: line {line}: {message}")]
    Syntax {
        locale: Locale,
        line: usize,
        message: String,
    },
    #[error("templates for {locale}: message `{id}` is missing")]
    MissingMessage { locale: Locale, id: String },
    #[error("templates for {locale}: message `{id}`: {message}")]
    Format {
        locale: Locale,
        id: String,
        message: String,
    },
}

/// Strings that do not depend on the alert, formatted once per locale.
struct Fixed {
    hazard: Vec<String>,
    advice: Vec<String>,
    colour: [String; 4],
    advice_all_clear: String,
    advice_relief: String,
    advice_lowered: String,
    original_label: String,
    exercise_marker: String,
    exercise_note: String,
    /// The `action` sentence split around its instruction.
    action: (String, String),
    /// [`FIXED_TEXT_IDS`], formatted.
    texts: std::collections::HashMap<&'static str, String>,
}

struct LocaleTemplates {
    locale: Locale,
    bundle: FluentBundle<FluentResource>,
    fixed: Fixed,
    /// Messages of [`MESSAGE_IDS`] that are plain text and variables.
    compiled: std::collections::HashMap<&'static str, compiled::Compiled>,
}

/// Variable values in [`VARIABLES`] order.
type Values<'a> = [&'a str; VARIABLES.len()];

fn values<'a>(pairs: &[(&str, &'a str)]) -> Values<'a> {
    let mut values = [""; VARIABLES.len()];
    for (name, value) in pairs {
        if let Some(i) = VARIABLES.iter().position(|v| v == name) {
            values[i] = value;
        }
    }
    values
}

/// Renders notices in every supported locale. Build one and share it (it is
/// `Send + Sync`); building parses every template.
pub struct Renderer {
    locales: Vec<LocaleTemplates>,
}

const INSTRUCTION_SLOT: &str = "\u{E000}";

fn hazard_index(hazard: HazardKind) -> usize {
    HazardKind::ALL
        .iter()
        .position(|h| *h == hazard)
        .unwrap_or(HazardKind::ALL.len() - 1)
}

fn colour_index(colour: Colour) -> usize {
    match colour {
        Colour::Green => 0,
        Colour::Yellow => 1,
        Colour::Orange => 2,
        Colour::Red => 3,
    }
}

impl LocaleTemplates {
    fn load(locale: Locale, source: &str) -> Result<Self, RenderError> {
        let resource = FluentResource::try_new(source.to_string()).map_err(|(_, errors)| {
            let (line, message) = match errors.first() {
                Some(first) => {
                    // The line of the error's first byte (lines counted from 1).
                    let end = first.pos.start.min(source.len());
                    let line = source.as_bytes()[..end]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count()
                        + 1;
                    (line, format!("{:?}", first.kind))
                }
                None => (0, "unparsable".to_string()),
            };
            RenderError::Syntax {
                locale,
                line,
                message,
            }
        })?;
        let langid: LanguageIdentifier = locale.tag().parse().map_err(|_| RenderError::Syntax {
            locale,
            line: 0,
            message: "locale tag does not parse".into(),
        })?;
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        // Unicode isolation marks would make every SMS UCS-2 and confuse
        // length budgets; our placeables are plain text in the same script.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| RenderError::Format {
                locale,
                id: String::new(),
                message: format!("{errors:?}"),
            })?;
        let mut templates = LocaleTemplates {
            locale,
            bundle,
            compiled: Default::default(),
            fixed: Fixed {
                hazard: Vec::new(),
                advice: Vec::new(),
                colour: Default::default(),
                advice_all_clear: String::new(),
                advice_relief: String::new(),
                advice_lowered: String::new(),
                original_label: String::new(),
                exercise_marker: String::new(),
                exercise_note: String::new(),
                action: (String::new(), String::new()),
                texts: Default::default(),
            },
        };
        // Every message must exist and use no variable the renderer does
        // not supply.
        let mut all_args = FluentArgs::with_capacity(VARIABLES.len());
        for variable in VARIABLES {
            all_args.set(*variable, "x");
        }
        for id in MESSAGE_IDS {
            templates.format(id, Some(&all_args))?;
        }
        let fixed = Fixed {
            hazard: HazardKind::ALL
                .iter()
                .map(|h| templates.plain(&format!("hazard-{}", h.as_str())))
                .collect::<Result<_, _>>()?,
            advice: HazardKind::ALL
                .iter()
                .map(|h| templates.plain(&format!("advice-{}", h.as_str())))
                .collect::<Result<_, _>>()?,
            colour: [
                templates.plain("colour-green")?,
                templates.plain("colour-yellow")?,
                templates.plain("colour-orange")?,
                templates.plain("colour-red")?,
            ],
            advice_all_clear: templates.plain("advice-all-clear")?,
            advice_relief: templates.plain("advice-relief")?,
            advice_lowered: templates.plain("advice-lowered")?,
            original_label: templates.plain("original-label")?,
            exercise_marker: templates.plain("exercise-marker")?,
            exercise_note: templates.plain("exercise-note")?,
            action: {
                let mut args = FluentArgs::with_capacity(1);
                args.set("instruction", INSTRUCTION_SLOT);
                let action = templates.format("action", Some(&args))?;
                match action.split_once(INSTRUCTION_SLOT) {
                    Some((before, after)) => (before.to_string(), after.to_string()),
                    None => {
                        return Err(RenderError::Format {
                            locale,
                            id: "action".into(),
                            message: "does not use $instruction".into(),
                        });
                    }
                }
            },
            texts: Default::default(),
        };
        let mut fixed = fixed;
        for id in FIXED_TEXT_IDS {
            fixed.texts.insert(id, templates.plain(id)?);
        }
        templates.fixed = fixed;
        let sentinels: Vec<String> = (0..VARIABLES.len())
            .map(|i| compiled::sentinel(i).to_string())
            .collect();
        let mut sentinel_args = FluentArgs::with_capacity(VARIABLES.len());
        for (variable, sentinel) in VARIABLES.iter().zip(&sentinels) {
            sentinel_args.set(*variable, sentinel.as_str());
        }
        for id in MESSAGE_IDS {
            let plain = templates
                .bundle
                .get_message(id)
                .and_then(|m| m.value())
                .is_some_and(compiled::is_plain);
            if plain {
                let formatted = templates.format(id, Some(&sentinel_args))?;
                let compiled = compiled::Compiled::from_formatted(&formatted, VARIABLES.len());
                templates.compiled.insert(id, compiled);
            }
        }
        Ok(templates)
    }

    /// Message `id` with `values`: compiled when plain, through Fluent
    /// otherwise.
    fn text(&self, id: &str, values: &Values<'_>) -> Result<String, RenderError> {
        if let Some(compiled) = self.compiled.get(id) {
            return Ok(compiled.render(values));
        }
        let mut args = FluentArgs::with_capacity(VARIABLES.len());
        for (variable, value) in VARIABLES.iter().zip(values) {
            args.set(*variable, *value);
        }
        self.format(id, Some(&args)).map(Cow::into_owned)
    }

    fn plain(&self, id: &str) -> Result<String, RenderError> {
        self.format(id, None).map(Cow::into_owned)
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> Result<Cow<'_, str>, RenderError> {
        let locale = self.locale;
        let message = self
            .bundle
            .get_message(id)
            .ok_or_else(|| RenderError::MissingMessage {
                locale,
                id: id.to_string(),
            })?;
        let pattern = message.value().ok_or_else(|| RenderError::MissingMessage {
            locale,
            id: id.to_string(),
        })?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if let Some(error) = errors.first() {
            return Err(RenderError::Format {
                locale,
                id: id.to_string(),
                message: error.to_string(),
            });
        }
        Ok(text)
    }
}

/// The renderer of the shipped templates, built once for the process.
pub fn shipped() -> Result<&'static Renderer, RenderError> {
    static SHIPPED: OnceLock<Result<Renderer, RenderError>> = OnceLock::new();
    SHIPPED
        .get_or_init(Renderer::new)
        .as_ref()
        .map_err(Clone::clone)
}

impl Renderer {
    /// Parses and checks the templates of every locale.
    pub fn new() -> Result<Self, RenderError> {
        Renderer::from_sources(&SOURCES)
    }

    /// Templates from other sources (a deployment's own wording), one per
    /// locale in [`Locale::ALL`] order, checked like the shipped ones.
    pub fn from_sources(sources: &[(Locale, &str); 8]) -> Result<Self, RenderError> {
        let mut locales = Vec::with_capacity(sources.len());
        for (expected, (locale, source)) in Locale::ALL.iter().zip(sources) {
            if expected != locale {
                return Err(RenderError::MissingMessage {
                    locale: *expected,
                    id: "(all)".into(),
                });
            }
            locales.push(LocaleTemplates::load(*locale, source)?);
        }
        Ok(Renderer { locales })
    }

    /// The shipped template sources.
    pub fn shipped_sources() -> [(Locale, &'static str); 8] {
        SOURCES
    }

    fn templates(&self, locale: Locale) -> &LocaleTemplates {
        // SOURCES lists the locales in Locale::ALL order.
        let index = Locale::ALL.iter().position(|l| *l == locale).unwrap_or(0);
        &self.locales[index]
    }

    /// The hazard's name in `locale`, as used inside sentences.
    pub fn hazard_name(&self, locale: Locale, hazard: HazardKind) -> &str {
        &self.templates(locale).fixed.hazard[hazard_index(hazard)]
    }

    /// A message without variables (see [`FIXED_TEXT_IDS`]).
    pub fn fixed_text(&self, locale: Locale, id: &str) -> Option<&str> {
        self.templates(locale)
            .fixed
            .texts
            .get(id)
            .map(String::as_str)
    }

    /// The mark at the head of an exercise's headline.
    pub fn exercise_marker(&self, locale: Locale) -> &str {
        &self.templates(locale).fixed.exercise_marker
    }

    /// The headline of a Cancel the console writes for an alert whose
    /// event is `event` (the office's words, in the same language).
    pub fn ending_headline(&self, locale: Locale, event: &str) -> Result<String, RenderError> {
        self.templates(locale)
            .text("ending-headline", &values(&[("hazard", event)]))
    }

    /// How the console describes a circle it draws, `distance` its radius
    /// in kilometres.
    pub fn area_within(&self, locale: Locale, distance: &str) -> Result<String, RenderError> {
        self.templates(locale)
            .text("area-circle", &values(&[("distance", distance)]))
    }

    /// The colour level's name in `locale`.
    pub fn colour_name(&self, locale: Locale, colour: Colour) -> &str {
        &self.templates(locale).fixed.colour[colour_index(colour)]
    }

    /// Renders `notice` for a recipient whose place is `place`.
    pub fn render(
        &self,
        notice: &Notice,
        place: &RecipientPlace,
        locale: Locale,
    ) -> Result<Message, RenderError> {
        let t = self.templates(locale);
        let fixed = &t.fixed;
        let hazard = fixed.hazard[hazard_index(notice.hazard)].as_str();
        let colour = fixed.colour[colour_index(notice.colour)].as_str();
        // Someone told late of an alert already in force reads since when.
        let since = match (notice.kind, notice.in_force_since) {
            (NoticeKind::New, Some(since)) => Some(format_taipei(since)),
            _ => None,
        };
        let place_values = values(&[
            ("hazard", hazard),
            ("colour", colour),
            ("place", &place.name),
            ("time", since.as_deref().unwrap_or_default()),
        ]);
        let (title_id, headline_id) = match notice.kind {
            NoticeKind::New if since.is_some() => ("title-new", "headline-in-force"),
            NoticeKind::New => ("title-new", "headline-new"),
            NoticeKind::Update => ("title-update", "headline-update"),
            NoticeKind::AllClear => ("title-all-clear", "headline-all-clear"),
            NoticeKind::Relief => ("title-relief", "headline-relief"),
            NoticeKind::Lowered => ("title-lowered", "headline-lowered"),
        };
        let title = t.text(title_id, &place_values)?;
        let headline = t.text(headline_id, &place_values)?;

        let agency = notice.instruction_by_locale.get(&locale);
        let instruction_is_agency = agency.is_some();
        let instruction = match (agency, notice.kind) {
            (Some(text), _) => text.clone(),
            (None, NoticeKind::New | NoticeKind::Update) => {
                fixed.advice[hazard_index(notice.hazard)].clone()
            }
            (None, NoticeKind::AllClear) => fixed.advice_all_clear.clone(),
            (None, NoticeKind::Relief) => fixed.advice_relief.clone(),
            (None, NoticeKind::Lowered) => fixed.advice_lowered.clone(),
        };

        let shelter = match (&place.shelter, notice.kind) {
            (Some(shelter), NoticeKind::New | NoticeKind::Update) => {
                let distance = format_distance(shelter.distance_m);
                let v = values(&[("shelter", &shelter.name), ("distance", &distance)]);
                Some(t.text("shelter", &v)?)
            }
            _ => None,
        };
        let valid_until = match (notice.expires, notice.kind) {
            (Some(expires), NoticeKind::New | NoticeKind::Update | NoticeKind::Lowered) => {
                let time = format_taipei(expires);
                Some(t.text("valid-until", &values(&[("time", &time)]))?)
            }
            _ => None,
        };
        let details = t.text("details", &values(&[("link", &notice.link)]))?;
        let original = notice
            .instruction_original
            .as_ref()
            .filter(|original| agency != Some(*original))
            .cloned();

        Ok(Message {
            locale,
            exercise: notice.exercise.then(|| Exercise {
                marker: fixed.exercise_marker.clone(),
                note: fixed.exercise_note.clone(),
            }),
            title,
            headline,
            action: (fixed.action.0.clone(), fixed.action.1.clone()),
            instruction,
            instruction_is_agency,
            shelter,
            valid_until,
            details,
            link: notice.link.clone(),
            original,
            original_label: fixed.original_label.clone(),
        })
    }
}

/// `2026-11-22 14:05` in Taiwan time.
pub fn format_taipei(at: DateTime<FixedOffset>) -> String {
    let taipei = FixedOffset::east_opt(TAIPEI_OFFSET_SECONDS).unwrap_or(*at.offset());
    let local = at.with_timezone(&taipei);
    let mut out = String::with_capacity(16);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    );
    out
}

/// `350 m`, `1.2 km`: digits and SI units read the same in every locale.
fn format_distance(metres: u32) -> String {
    if metres < 1000 {
        format!("{metres} m")
    } else {
        format!("{:.1} km", f64::from(metres) / 1000.0)
    }
}

/// The exercise marking a drill carries in title and body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercise {
    pub marker: String,
    pub note: String,
}

/// A rendered message in one locale, before any channel's budget applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub locale: Locale,
    pub exercise: Option<Exercise>,
    pub title: String,
    /// First sentence: hazard, level, place.
    pub headline: String,
    /// The `action` sentence around the instruction.
    action: (String, String),
    /// What to do, in the recipient's language.
    pub instruction: String,
    /// Whether `instruction` is the agency's own text (else standard advice).
    pub instruction_is_agency: bool,
    pub shelter: Option<String>,
    pub valid_until: Option<String>,
    /// The sentence carrying the link.
    pub details: String,
    pub link: String,
    /// The agency's original instruction, when it differs from `instruction`.
    pub original: Option<String>,
    pub original_label: String,
}

/// Length budgets, one per channel. The defaults suit common phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budgets {
    /// Push title: what a lock screen shows on one line.
    pub push_title_chars: usize,
    /// Push body: what an expanded notification shows without scrolling.
    pub push_body_chars: usize,
    /// SMS: segments one message may cost (each is billed).
    pub sms_segments: usize,
    /// E-mail subject: RFC 5322's recommended 78-character line.
    pub email_subject_chars: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            push_title_chars: 65,
            push_body_chars: 240,
            sms_segments: 3,
            email_subject_chars: 78,
        }
    }
}

/// Which parts of a message a body includes, for fitting it to a budget.
#[derive(Clone, Copy)]
struct Shape<'a> {
    exercise_note: bool,
    /// A shortened headline, or the whole one.
    headline: Option<&'a str>,
    /// The instruction as shown; empty leaves out the action sentence.
    instruction: &'a str,
    shelter: bool,
    valid_until: bool,
    details: bool,
}

impl<'a> Shape<'a> {
    fn whole(instruction: &'a str, details: bool) -> Self {
        Shape {
            exercise_note: true,
            headline: None,
            instruction,
            shelter: true,
            valid_until: true,
            details,
        }
    }
}

/// A push notification's visible text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushText {
    pub title: String,
    pub body: String,
}

/// An SMS text and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsText {
    pub text: String,
    pub encoding: SmsEncoding,
    pub segments: usize,
}

/// An e-mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailText {
    pub subject: String,
    pub body: String,
}

impl Message {
    fn gap(&self) -> &'static str {
        self.locale.sentence_gap()
    }

    /// The title with the exercise marker (if any) in front.
    fn marked(&self, text: &str) -> String {
        match &self.exercise {
            Some(exercise) => format!("{}{}{}", exercise.marker, self.gap_after_marker(), text),
            None => text.to_string(),
        }
    }

    fn gap_after_marker(&self) -> &'static str {
        // Full-width brackets (【演習】) need no space after them.
        match self.locale {
            Locale::ZhTw | Locale::Ja => "",
            _ => " ",
        }
    }

    /// The body in a given shape; see [`Shape`].
    fn body_with(&self, shape: &Shape<'_>) -> String {
        let gap = self.gap();
        let mut body = String::with_capacity(256);
        if let Some(exercise) = &self.exercise {
            body.push_str(&exercise.marker);
            body.push_str(self.gap_after_marker());
            if shape.exercise_note {
                body.push_str(&exercise.note);
                body.push_str(gap);
            }
        }
        body.push_str(shape.headline.unwrap_or(&self.headline));
        if !shape.instruction.is_empty() {
            body.push_str(gap);
            body.push_str(&self.action.0);
            body.push_str(shape.instruction);
            body.push_str(&self.action.1);
        }
        let shelter = self.shelter.as_ref().filter(|_| shape.shelter);
        let valid_until = self.valid_until.as_ref().filter(|_| shape.valid_until);
        for sentence in [shelter, valid_until].into_iter().flatten() {
            body.push_str(gap);
            body.push_str(sentence);
        }
        if shape.details {
            body.push_str(gap);
            body.push_str(&self.details);
        }
        body
    }

    /// The longest body for which `fits` holds. What gives way, in order:
    /// the exercise note (the marker stays), the validity (the link has
    /// it), the end of the instruction while most of it survives, the
    /// shelter, the rest of the instruction, and finally the end of the
    /// headline. The link sentence (`with_details`) is never cut.
    fn fitted_body(&self, with_details: bool, fits: impl Fn(&str) -> bool) -> String {
        let mut shape = Shape::whole(&self.instruction, with_details);
        let full = self.body_with(&shape);
        if fits(&full) {
            return full;
        }
        let ellipsis = self.locale.ellipsis();
        let instruction_graphemes = fit::cut_points(&self.instruction).len() - 1;
        // Below this, a shortened instruction says too little to act on and
        // the shelter sentence goes first.
        let worth_keeping = (instruction_graphemes * 2 / 5)
            .max(12)
            .min(instruction_graphemes);
        let shorten = |shape: Shape<'_>, minimum: usize| -> Option<String> {
            let instruction = fit::longest_fitting(&self.instruction, ellipsis, |instruction| {
                fits(&self.body_with(&Shape {
                    instruction,
                    ..shape
                }))
            })?;
            let kept = fit::cut_points(instruction.trim_end_matches(ellipsis)).len() - 1;
            (kept >= minimum).then(|| {
                self.body_with(&Shape {
                    instruction: &instruction,
                    ..shape
                })
            })
        };
        shape.exercise_note = false;
        let without_note = self.body_with(&shape);
        if fits(&without_note) {
            return without_note;
        }
        shape.valid_until = false;
        if let Some(body) = shorten(shape, worth_keeping) {
            return body;
        }
        shape.shelter = false;
        if let Some(body) = shorten(shape, 1) {
            return body;
        }
        shape.instruction = "";
        let headline = fit::longest_fitting(&self.headline, ellipsis, |headline| {
            fits(&self.body_with(&Shape {
                headline: Some(headline),
                ..shape
            }))
        });
        match headline {
            Some(headline) => self.body_with(&Shape {
                headline: Some(&headline),
                ..shape
            }),
            // Even the link does not fit: cut the bare text.
            None => {
                fit::longest_fitting(&self.body_with(&shape), ellipsis, &fits).unwrap_or_default()
            }
        }
    }

    /// Title and body within the push budget; the link travels in the
    /// notification's data, not its text.
    pub fn push(&self, budgets: &Budgets) -> PushText {
        let title = self.fitted_title(budgets.push_title_chars);
        let body = self.fitted_body(false, |s| s.chars().count() <= budgets.push_body_chars);
        PushText { title, body }
    }

    fn fitted_title(&self, max_chars: usize) -> String {
        let marker_chars = self.marked("").chars().count();
        let room = max_chars.saturating_sub(marker_chars);
        self.marked(&fit::truncate_chars(
            &self.title,
            room,
            self.locale.ellipsis(),
        ))
    }

    /// The SMS text within `budgets.sms_segments` segments, link included.
    pub fn sms(&self, budgets: &Budgets) -> SmsText {
        let max = budgets.sms_segments.max(1);
        let text = self.fitted_body(true, |s| sms::segments(s).1 <= max);
        let (encoding, segments) = sms::segments(&text);
        SmsText {
            text,
            encoding,
            segments,
        }
    }

    /// The e-mail: a subject within budget and the whole text, with the
    /// agency's original instruction when it differs from the one shown.
    pub fn email(&self, budgets: &Budgets) -> EmailText {
        let subject = self.fitted_title(budgets.email_subject_chars);
        let mut body = self.body_with(&Shape::whole(&self.instruction, false));
        body.push_str("\n\n");
        if let Some(original) = &self.original {
            body.push_str(&self.original_label);
            body.push_str(":\n");
            body.push_str(original);
            body.push_str("\n\n");
        }
        body.push_str(&self.details);
        body.push('\n');
        EmailText { subject, body }
    }

    /// The full text without any budget (web page, webhook, live feed).
    pub fn full_text(&self) -> String {
        self.body_with(&Shape::whole(&self.instruction, true))
    }

    /// The title with the exercise marker, unshortened.
    pub fn full_title(&self) -> String {
        self.marked(&self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_templates_are_named_by_locale_and_line() {
        let mut sources = Renderer::shipped_sources();
        let broken = sources[1]
            .1
            .replacen("hazard-flood = flood", "hazard-flood = { $", 1);
        sources[1].1 = &broken;
        let line = broken
            .lines()
            .position(|l| l.starts_with("hazard-flood"))
            .unwrap()
            + 1;
        match Renderer::from_sources(&sources) {
            Err(RenderError::Syntax {
                locale: Locale::En,
                line: reported,
                ..
            }) => assert_eq!(reported, line),
            Err(other) => panic!("wrong error {other}"),
            Ok(_) => panic!("broken template accepted"),
        }
        let mut sources = Renderer::shipped_sources();
        let missing = sources[4].1.replacen("valid-until =", "valid-until-x =", 1);
        sources[4].1 = &missing;
        assert!(matches!(
            Renderer::from_sources(&sources),
            Err(RenderError::MissingMessage { locale: Locale::Th, ref id }) if id == "valid-until"
        ));
    }

    /// Every message the service uses must be in every catalogue: removing
    /// any one of them from any locale stops the renderer from loading,
    /// naming the locale and the message.
    #[test]
    fn a_catalogue_missing_any_message_is_refused() {
        for (index, (locale, source)) in Renderer::shipped_sources().iter().enumerate() {
            for id in MESSAGE_IDS.iter().chain(FIXED_TEXT_IDS) {
                let needle = format!("\n{id} =");
                assert!(source.contains(&needle), "{locale} lacks {id}");
                let removed = source.replacen(&needle, &format!("\n{id}-removed ="), 1);
                let mut sources = Renderer::shipped_sources();
                sources[index].1 = &removed;
                match Renderer::from_sources(&sources) {
                    Err(RenderError::MissingMessage {
                        locale: l,
                        id: missing,
                    }) if l == *locale && missing == *id => {}
                    Err(other) => panic!("{locale} without {id}: wrong error {other}"),
                    Ok(_) => panic!("{locale} without {id} was accepted"),
                }
            }
        }
    }

    /// Compiled messages say exactly what Fluent says.
    #[test]
    fn compiled_messages_match_fluent() {
        let renderer = Renderer::new().unwrap();
        let sample = [
            "土石流",
            "RED",
            "Xinyi & <Co>",
            "Leave.",
            "School",
            "850 m",
            "2026-11-22 14:00",
            "https://x.example",
        ];
        let mut checked = 0;
        for t in &renderer.locales {
            assert_eq!(
                t.compiled.len(),
                MESSAGE_IDS.len(),
                "{}: every shipped message is plain",
                t.locale
            );
            for (id, compiled) in &t.compiled {
                let mut args = FluentArgs::with_capacity(VARIABLES.len());
                for (variable, value) in VARIABLES.iter().zip(sample) {
                    args.set(*variable, value);
                }
                let fluent = t.format(id, Some(&args)).unwrap();
                assert_eq!(compiled.render(&sample), fluent, "{} {id}", t.locale);
                checked += 1;
            }
        }
        assert_eq!(checked, 8 * MESSAGE_IDS.len());
    }
}
