//! Reading the dry-run place list: CSV with the header `id,lon,lat`.
//!
//! The `csv` crate splits the records (quoting, CRLF, blank lines); one
//! reused byte record means no allocation per row, so tens of millions of
//! rows read in one pass.
//!
//! Numbers have their own parser, [`parse_decimal`]: exact (correctly
//! rounded) like the standard library's, with a fast path for at most 15
//! significant digits and 22 decimals (every coordinate written with up to
//! 7 decimals): the integer mantissa and the power of ten are both exact
//! `f64`s, and one correctly rounded division gives the correctly rounded
//! value (Clinger's fast path); anything else goes to the standard parser.
//! Measured on 5 million rows (153 MB, release, this machine): 0.94–1.20 s
//! with it against 1.54–1.67 s with `str::parse::<f64>` for both columns
//! (bench/RESULTS.md, "Dry-run place list").

/// A CSV problem, with its 1-based line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("line 1: expected the header `id,lon,lat`, found {found:?}")]
    Header { found: String },
    #[error("line {line}: expected three fields `id,lon,lat`")]
    Fields { line: u64 },
    #[error("line {line}: {field} {value:?} is not a number")]
    Number {
        line: u64,
        field: &'static str,
        value: String,
    },
    #[error("line {line}: {field} {value} is out of range")]
    Range {
        line: u64,
        field: &'static str,
        value: f64,
    },
    #[error("line {line}: {message}")]
    Syntax { line: u64, message: String },
}

impl CsvError {
    fn from_reader(error: &csv::Error) -> CsvError {
        CsvError::Syntax {
            line: error.position().map_or(0, csv::Position::line),
            message: error.to_string(),
        }
    }
}

/// Parses the whole file into `[lon, lat]` pairs, in file order. The id
/// column is read past (a row's identity is its position).
pub fn parse_points(bytes: &[u8]) -> Result<Vec<[f64; 2]>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        // Rows are checked here, to name the line and what is missing.
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| CsvError::from_reader(&e))?;
    if header.iter().collect::<Vec<_>>() != [&b"id"[..], b"lon", b"lat"] {
        return Err(CsvError::Header {
            found: String::from_utf8_lossy(header.as_slice()).into_owned(),
        });
    }
    // Roughly 30 bytes a row: reserve once.
    let mut points = Vec::with_capacity(bytes.len() / 28 + 1);
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| CsvError::from_reader(&e))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        let (Some(lon), Some(lat), 3) = (record.get(1), record.get(2), record.len()) else {
            return Err(CsvError::Fields { line });
        };
        let lon = number(lon, line, "lon")?;
        let lat = number(lat, line, "lat")?;
        if !(-180.0..=180.0).contains(&lon) {
            return Err(CsvError::Range {
                line,
                field: "lon",
                value: lon,
            });
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(CsvError::Range {
                line,
                field: "lat",
                value: lat,
            });
        }
        points.push([lon, lat]);
    }
    Ok(points)
}

fn number(field: &[u8], line: u64, name: &'static str) -> Result<f64, CsvError> {
    parse_decimal(field)
        .filter(|value| value.is_finite())
        .ok_or_else(|| CsvError::Number {
            line,
            field: name,
            value: String::from_utf8_lossy(field).into_owned(),
        })
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a decimal number exactly (correctly rounded).
pub fn parse_decimal(s: &[u8]) -> Option<f64> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut mantissa: u64 = 0;
    let mut significant = 0usize;
    let mut decimals = 0usize;
    let mut seen_dot = false;
    let mut seen_digit = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                if mantissa > 0 || b != b'0' {
                    significant += 1;
                }
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                if seen_dot {
                    decimals += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return slow_path(s),
        }
    }
    if !seen_digit {
        return None;
    }
    if significant > 15 || decimals > 22 {
        return slow_path(s);
    }
    let value = mantissa as f64 / POW10[decimals];
    Some(if negative { -value } else { value })
}

fn slow_path(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_points_in_order() {
        let csv =
            b"id,lon,lat\n1,121.5645,25.034\r\nabc,-0.5,+1.25\n\n\"7, quoted\",120,22.0000001";
        let pts = parse_points(csv).unwrap();
        assert_eq!(
            pts,
            vec![[121.5645, 25.034], [-0.5, 1.25], [120.0, 22.0000001]]
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert!(matches!(
            parse_points(b"lon,lat\n"),
            Err(CsvError::Header { .. })
        ));
        assert_eq!(
            parse_points(b"id,lon,lat\n1,2,3\n2,3\n"),
            Err(CsvError::Fields { line: 3 })
        );
        assert_eq!(
            parse_points(b"id,lon,lat\n1,2,3,4\n"),
            Err(CsvError::Fields { line: 2 })
        );
        assert!(matches!(
            parse_points(b"id,lon,lat\n1,2,x\n"),
            Err(CsvError::Number {
                line: 2,
                field: "lat",
                ..
            })
        ));
        for bad in ["1e400", "NaN", "inf", ".", "1.2.3"] {
            let text = format!("id,lon,lat\n1,2,{bad}\n");
            assert!(
                matches!(
                    parse_points(text.as_bytes()),
                    Err(CsvError::Number { line: 2, .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_points(b"id,lon,lat\n1,200,3\n"),
            Err(CsvError::Range {
                line: 2,
                field: "lon",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn fast_path_is_correctly_rounded(int in 0u64..200, frac in 0u64..100_000_000, width in 1usize..9, neg: bool) {
            let frac = frac % 10u64.pow(width as u32);
            let text = format!("{}{}.{:0w$}", if neg { "-" } else { "" }, int, frac, w = width);
            prop_assert_eq!(parse_decimal(text.as_bytes()), Some(text.parse::<f64>().unwrap()));
        }

        #[test]
        fn any_coordinate_round_trips(lon in -180.0f64..180.0, lat in -90.0f64..90.0) {
            let text = format!("id,lon,lat\nx,{lon},{lat}\n");
            prop_assert_eq!(parse_points(text.as_bytes()).unwrap(), vec![[lon, lat]]);
        }
    }
}
