//! Loaders for the two CSV files a city may give the gazetteer: its official address points
//! (`street,number,lon,lat,postcode`) and public-transport stops (`stop_name,lon,lat,...`).
//! Fields may be quoted (RFC 4180: `"..."`, with `""` for a quote inside, line breaks allowed).
use super::{OfficialAddress, Stop};

/// A CSV file that cannot be read, with the line where it went wrong (1-based, the header is
/// line 1).
#[derive(Clone, Debug, PartialEq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CsvError {}

/// The records of a CSV text, each with the line it starts on.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let (mut line, mut start_line) = (1usize, 1usize);
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    out.push((start_line, std::mem::take(&mut record)));
                }
                any = false;
                line += 1;
                start_line = line;
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(CsvError {
            line: start_line,
            message: "a quoted field is not closed".into(),
        });
    }
    if any || !field.is_empty() {
        record.push(field);
        out.push((start_line, record));
    }
    Ok(out)
}

/// Positions of `wanted` columns in the header (case-insensitive); `None` for a column that is
/// not there.
fn columns(header: &[String], wanted: &[&[&str]]) -> Vec<Option<usize>> {
    wanted
        .iter()
        .map(|names| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        })
        .collect()
}

fn number(rec: &[String], col: usize, line: usize, what: &str) -> Result<f64, CsvError> {
    let s = rec.get(col).map(|s| s.trim()).unwrap_or("");
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| CsvError {
            line,
            message: format!("{what} is not a number: {s:?}"),
        })
}

/// Official address points from CSV text with the header `street,number,lon,lat,postcode`
/// (any column order; `postcode` may be missing or empty). Rows with an empty street or number
/// are an error, as are coordinates that are not numbers.
pub fn parse_official_csv(text: &str) -> Result<Vec<OfficialAddress>, CsvError> {
    let mut recs = records(text)?.into_iter();
    let Some((_, header)) = recs.next() else {
        return Ok(Vec::new());
    };
    let cols = columns(
        &header,
        &[&["street"], &["number"], &["lon"], &["lat"], &["postcode"]],
    );
    let need = |i: usize, name: &str| {
        cols[i].ok_or_else(|| CsvError {
            line: 1,
            message: format!("no {name} column"),
        })
    };
    let (street, num, lon, lat) = (
        need(0, "street")?,
        need(1, "number")?,
        need(2, "lon")?,
        need(3, "lat")?,
    );
    let mut out = Vec::new();
    for (line, rec) in recs {
        let text = |c: usize| rec.get(c).map(|s| s.trim()).unwrap_or("").to_string();
        let (s, n) = (text(street), text(num));
        if s.is_empty() || n.is_empty() {
            return Err(CsvError {
                line,
                message: "empty street or number".into(),
            });
        }
        out.push(OfficialAddress {
            street: s,
            number: n,
            lon: number(&rec, lon, line, "lon")?,
            lat: number(&rec, lat, line, "lat")?,
            postcode: cols[4].map(text).filter(|p| !p.is_empty()),
        });
    }
    Ok(out)
}

/// Stops from CSV text with a `stop_name` (or `name`) and `lon`, `lat` columns. A trailing
/// two-digit platform code is dropped from the name ("AWF 01" → "AWF"), so a stop's platforms
/// share one name and become one stop in the index.
pub fn parse_stops_csv(text: &str) -> Result<Vec<Stop>, CsvError> {
    let mut recs = records(text)?.into_iter();
    let Some((_, header)) = recs.next() else {
        return Ok(Vec::new());
    };
    let cols = columns(&header, &[&["stop_name", "name"], &["lon"], &["lat"]]);
    let (Some(name), Some(lon), Some(lat)) = (cols[0], cols[1], cols[2]) else {
        return Err(CsvError {
            line: 1,
            message: "expected stop_name, lon and lat columns".into(),
        });
    };
    let mut out = Vec::new();
    for (line, rec) in recs {
        let raw = rec.get(name).map(|s| s.trim()).unwrap_or("");
        let name = match raw.rsplit_once(' ') {
            Some((base, code)) if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => {
                base.trim_end()
            }
            _ => raw,
        };
        if name.is_empty() {
            continue;
        }
        out.push(Stop {
            name: name.to_string(),
            lon: number(&rec, lon, line, "lon")?,
            lat: number(&rec, lat, line, "lat")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_csv_reads_quoted_fields_and_any_column_order() {
        let text = "number,street,lat,lon,postcode\r\n\
                    12,\"Floriańska\",50.0630,19.9400,31-019\r\n\
                    \"3\",\"Aleja \"\"Trzech\"\" Wieszczów\",50.07,19.92,\n\
                    5a,\"Długa,\nstara\",50.07,19.93,\n";
        let a = parse_official_csv(text).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].street, "Floriańska");
        assert_eq!(a[0].number, "12");
        assert_eq!((a[0].lon, a[0].lat), (19.94, 50.063));
        assert_eq!(a[0].postcode.as_deref(), Some("31-019"));
        assert_eq!(a[1].street, "Aleja \"Trzech\" Wieszczów");
        assert_eq!(a[1].postcode, None);
        assert_eq!(a[2].street, "Długa,\nstara");
    }

    #[test]
    fn official_csv_says_which_line_is_wrong() {
        let e = parse_official_csv("street,number,lon,lat\nA,1,x,50\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse_official_csv("street,lon,lat\n").is_err());
        assert!(parse_official_csv("street,number,lon,lat\n\"A,1,2,3\n").is_err());
        assert!(parse_official_csv("").unwrap().is_empty());
    }

    #[test]
    fn stop_platform_codes_are_dropped_from_names() {
        let text = "stop_name,lon,lat,dzielnica_id_computed\nAWF 01,19.99,50.07,14\nAWF 02,19.99,50.07,14\nRondo 308,19.9,50.0,1\n";
        let s = parse_stops_csv(text).unwrap();
        assert_eq!(s[0].name, "AWF");
        assert_eq!(s[1].name, "AWF");
        assert_eq!(s[2].name, "Rondo 308");
    }
}
