//! The words CAP writes for each enumeration, one table per enumeration.
//!
//! The parser reads a word through these tables and the writer writes a
//! value through the same tables, so the two directions cannot drift
//! apart. Each table holds the CAP 1.2 words; what an older version lacks
//! (Draft, CBRNE, Avoid, AllClear) and CAP 1.0's one extra word ("Very
//! Likely") are the parser's business, stated beside the elements it reads.

use crate::model::{
    CapVersion, Category, Certainty, MsgType, ResponseType, Scope, Severity, Status, Urgency,
};

pub const CAP_1_0_NS: &str = "http://www.incident.com/cap/1.0";
pub const CAP_1_1_NS: &str = "urn:oasis:names:tc:emergency:cap:1.1";
pub const CAP_1_2_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// An enumeration with a fixed CAP word per value.
pub trait CapWord: Copy + PartialEq + Sized + 'static {
    /// Every value with its CAP 1.2 word, in the order the spec lists them
    /// (the order error messages list them in).
    const WORDS: &'static [(&'static str, Self)];

    /// The word CAP writes for this value.
    fn word(self) -> &'static str {
        // Every value is in its table (the round-trip tests check each
        // one); the empty word would be refused by any CAP reader.
        Self::WORDS
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(w, _)| *w)
    }

    /// The value of an exactly written word.
    fn from_word(word: &str) -> Option<Self> {
        Self::WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, v)| *v)
    }
}

impl CapWord for Status {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Actual", Status::Actual),
        ("Exercise", Status::Exercise),
        ("System", Status::System),
        ("Test", Status::Test),
        // CAP 1.1 and later; kept last so that CAP 1.0 reads the head.
        ("Draft", Status::Draft),
    ];
}

impl CapWord for MsgType {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Alert", MsgType::Alert),
        ("Update", MsgType::Update),
        ("Cancel", MsgType::Cancel),
        ("Ack", MsgType::Ack),
        ("Error", MsgType::Error),
    ];
}

impl CapWord for Scope {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Public", Scope::Public),
        ("Restricted", Scope::Restricted),
        ("Private", Scope::Private),
    ];
}

impl CapWord for Category {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Geo", Category::Geo),
        ("Met", Category::Met),
        ("Safety", Category::Safety),
        ("Security", Category::Security),
        ("Rescue", Category::Rescue),
        ("Fire", Category::Fire),
        ("Health", Category::Health),
        ("Env", Category::Env),
        ("Transport", Category::Transport),
        ("Infra", Category::Infra),
        // CAP 1.1 and later.
        ("CBRNE", Category::Cbrne),
        ("Other", Category::Other),
    ];
}

impl CapWord for ResponseType {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Shelter", ResponseType::Shelter),
        ("Evacuate", ResponseType::Evacuate),
        ("Prepare", ResponseType::Prepare),
        ("Execute", ResponseType::Execute),
        ("Monitor", ResponseType::Monitor),
        ("Assess", ResponseType::Assess),
        ("None", ResponseType::None),
        // CAP 1.2 only; kept last so that CAP 1.1 reads the head.
        ("Avoid", ResponseType::Avoid),
        ("AllClear", ResponseType::AllClear),
    ];
}

impl CapWord for Urgency {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Immediate", Urgency::Immediate),
        ("Expected", Urgency::Expected),
        ("Future", Urgency::Future),
        ("Past", Urgency::Past),
        ("Unknown", Urgency::Unknown),
    ];
}

impl CapWord for Severity {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Extreme", Severity::Extreme),
        ("Severe", Severity::Severe),
        ("Moderate", Severity::Moderate),
        ("Minor", Severity::Minor),
        ("Unknown", Severity::Unknown),
    ];
}

impl CapWord for Certainty {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("Observed", Certainty::Observed),
        ("Likely", Certainty::Likely),
        ("Possible", Certainty::Possible),
        ("Unlikely", Certainty::Unlikely),
        ("Unknown", Certainty::Unknown),
    ];
}

/// The XML namespace of each CAP version: how a message declares its
/// version, and so a word table of its own.
impl CapWord for CapVersion {
    const WORDS: &'static [(&'static str, Self)] = &[
        (CAP_1_2_NS, CapVersion::V1_2),
        (CAP_1_1_NS, CapVersion::V1_1),
        (CAP_1_0_NS, CapVersion::V1_0),
    ];
}
