//! What an alert means for people: the hazard kind, its colour level and,
//! for earthquakes, the local intensity per area.
//!
//! These are the vocabulary the matcher filters on and the notifier speaks;
//! how they are derived from CAP fields is documented beside each mapping:
//! [`classify`] (hazard kind, colour, exercise flag), [`local_intensities`]
//! (earthquake intensity per area) and [`Intensity`]'s `FromStr`.

use serde::{Deserialize, Serialize};

mod classify;
mod intensity;

pub use classify::{Classification, classify, info_colour, info_hazard};
pub use intensity::{LocalIntensity, ParseIntensityError, local_intensities};

/// The hazard kinds residents choose from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    Rainfall,
    Flood,
    DebrisFlow,
    Earthquake,
    Typhoon,
    Thunderstorm,
    Tsunami,
    Heat,
    Cold,
    Fog,
    Wind,
    Other,
}

impl HazardKind {
    pub const ALL: [HazardKind; 12] = [
        HazardKind::Rainfall,
        HazardKind::Flood,
        HazardKind::DebrisFlow,
        HazardKind::Earthquake,
        HazardKind::Typhoon,
        HazardKind::Thunderstorm,
        HazardKind::Tsunami,
        HazardKind::Heat,
        HazardKind::Cold,
        HazardKind::Fog,
        HazardKind::Wind,
        HazardKind::Other,
    ];

    /// The snake_case name used in JSON, configuration and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            HazardKind::Rainfall => "rainfall",
            HazardKind::Flood => "flood",
            HazardKind::DebrisFlow => "debris_flow",
            HazardKind::Earthquake => "earthquake",
            HazardKind::Typhoon => "typhoon",
            HazardKind::Thunderstorm => "thunderstorm",
            HazardKind::Tsunami => "tsunami",
            HazardKind::Heat => "heat",
            HazardKind::Cold => "cold",
            HazardKind::Fog => "fog",
            HazardKind::Wind => "wind",
            HazardKind::Other => "other",
        }
    }
}

/// Colour levels, ordered from least to most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Yellow,
    Orange,
    Red,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Orange => "orange",
            Colour::Red => "red",
        }
    }
}

/// Local seismic intensity on the Central Weather Administration's scale
/// (in force since 2020): 0–4, then 5 and 6 split into lower (弱) and upper
/// (強), then 7. Ordered, so thresholds compare with `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Intensity {
    #[serde(rename = "0")]
    I0,
    #[serde(rename = "1")]
    I1,
    #[serde(rename = "2")]
    I2,
    #[serde(rename = "3")]
    I3,
    #[serde(rename = "4")]
    I4,
    #[serde(rename = "5-")]
    I5Lower,
    #[serde(rename = "5+")]
    I5Upper,
    #[serde(rename = "6-")]
    I6Lower,
    #[serde(rename = "6+")]
    I6Upper,
    #[serde(rename = "7")]
    I7,
}
