//! Core data types shared by every part of strata: field values, points, series keys and the
//! write batch that travels from a writer through the WAL into the memtable.

use std::fmt;
use std::sync::Arc;

/// Dense identifier of a series (measurement + sorted tag set) within one database.
pub type SeriesId = u64;
/// Nanoseconds since the Unix epoch.
pub type Timestamp = i64;
/// WAL sequence number: assigned by the WAL writer, one per write batch, strictly increasing.
pub type SeqNo = u64;

/// The type of a field. The discriminants are part of the on-disk formats (WAL and SSTable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FieldType {
    Float = 0,
    Integer = 1,
    Unsigned = 2,
    Boolean = 3,
    String = 4,
}

impl FieldType {
    /// Decode the on-disk tag of a field type.
    pub fn from_u8(v: u8) -> Option<FieldType> {
        Some(match v {
            0 => FieldType::Float,
            1 => FieldType::Integer,
            2 => FieldType::Unsigned,
            3 => FieldType::Boolean,
            4 => FieldType::String,
            _ => return None,
        })
    }

    /// The name InfluxDB 1.x uses for this type (`SHOW FIELD KEYS`, error messages).
    pub fn influx_name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Unsigned => "unsigned",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.influx_name())
    }
}

/// One field value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(String),
}

impl FieldValue {
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::String(_) => FieldType::String,
        }
    }

    /// Approximate bytes this value occupies in memory (used for memtable and query budgets).
    pub fn mem_size(&self) -> usize {
        match self {
            FieldValue::String(s) => 24 + s.len(),
            _ => 8,
        }
    }

    /// The value as f64 for numeric aggregation (`None` for strings and booleans).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Float(v) => Some(*v),
            FieldValue::Integer(v) => Some(*v as f64),
            FieldValue::Unsigned(v) => Some(*v as f64),
            _ => None,
        }
    }
}

/// The hasher of the write path's maps: foldhash, seeded per process (a fraction of SipHash's
/// cost on short keys and integers, and not predictable from outside the process).
pub type FastHash = foldhash::fast::RandomState;

/// A point as it comes out of the line-protocol parser, before its series is resolved.
///
/// The parser shares the measurement and tags of lines whose series text is the same, and the
/// names of fields spelt the same, within one body (`Arc`s, not a copy per line), so writers can
/// resolve each distinct series of a request once.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedPoint {
    /// Unescaped measurement name.
    pub measurement: Arc<str>,
    /// Unescaped tags, sorted by key, keys unique (the parser rejects duplicate tag keys).
    pub tags: Arc<[(String, String)]>,
    /// Unescaped field keys with their values, in line order, keys unique (a later duplicate wins).
    pub fields: Vec<(Arc<str>, FieldValue)>,
    /// Timestamp in nanoseconds (precision already applied). The parser fills in the server
    /// time for lines without one; `None` only for points built by hand (the writer then uses
    /// the current time).
    pub timestamp: Option<Timestamp>,
}

impl ParsedPoint {
    /// A point from its parts (tags in any order; sorted here).
    pub fn new(
        measurement: &str,
        mut tags: Vec<(String, String)>,
        fields: Vec<(String, FieldValue)>,
        timestamp: Option<Timestamp>,
    ) -> ParsedPoint {
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        ParsedPoint {
            measurement: Arc::from(measurement),
            tags: Arc::from(tags),
            fields: fields.into_iter().map(|(k, v)| (Arc::from(k), v)).collect(),
            timestamp,
        }
    }

    /// The canonical series key of this point (see [`series_key`]).
    pub fn series_key(&self) -> String {
        series_key(&self.measurement, &self.tags)
    }
}

/// The canonical series key: `measurement,k1=v1,k2=v2` with tags sorted by key and
/// line-protocol escaping applied (`,` ` ` `=` in tags; `,` ` ` in the measurement), so two
/// different (measurement, tags) never give the same key.
pub fn series_key(measurement: &str, tags: &[(String, String)]) -> String {
    let len = measurement.len()
        + tags
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum::<usize>();
    let mut out = String::with_capacity(len);
    escape_into(&mut out, measurement, b", ");
    for (k, v) in tags {
        out.push(',');
        escape_into(&mut out, k, b", =");
        out.push('=');
        escape_into(&mut out, v, b", =");
    }
    out
}

/// Append `s`, a backslash before each byte in `special` (all ASCII, so never inside a
/// multi-byte character).
fn escape_into(out: &mut String, s: &str, special: &[u8]) {
    let mut copied = 0;
    for (i, b) in s.bytes().enumerate() {
        if special.contains(&b) {
            out.push_str(s.get(copied..i).unwrap_or_default());
            out.push('\\');
            copied = i;
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
}

/// Split a canonical series key back into measurement and tags (inverse of [`series_key`]).
pub fn parse_series_key(key: &str) -> (String, Vec<(String, String)>) {
    // Split on unescaped commas, then each tag on the first unescaped '='.
    let parts = split_unescaped(key, ',');
    let mut it = parts.into_iter();
    let measurement = it.next().map(|p| unescape(&p)).unwrap_or_default();
    let mut tags = Vec::new();
    for p in it {
        let kv = split_unescaped(&p, '=');
        let k = kv.first().map(|s| unescape(s)).unwrap_or_default();
        let v = kv[1.min(kv.len())..].join("=");
        tags.push((k, unescape(&v)));
    }
    (measurement, tags)
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            cur.push(c);
            if let Some(n) = chars.next() {
                cur.push(n);
            }
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n) if n == ',' || n == ' ' || n == '=' || n == '\\' => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A newly created series, logged in the WAL before any point that uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSeries {
    pub id: SeriesId,
    /// Canonical series key (see [`series_key`]).
    pub key: String,
}

impl NewSeries {
    /// Its share of [`WriteBatch::approx_bytes`].
    pub fn approx_bytes(&self) -> usize {
        self.key.len() + 12
    }
}

/// One line's worth of values for one series at one timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub series: SeriesId,
    pub timestamp: Timestamp,
    /// Field name and value. Field names are shared `Arc<str>` so a batch does not copy them.
    pub fields: Vec<(Arc<str>, FieldValue)>,
}

impl Row {
    /// Its share of [`WriteBatch::approx_bytes`].
    pub fn approx_bytes(&self) -> usize {
        16 + self
            .fields
            .iter()
            .map(|(k, v)| k.len() + 2 + v.mem_size())
            .sum::<usize>()
    }
}

/// What one writer hands to the WAL writer: the series it created and its rows.
/// This is the payload of one WAL record (with the seqno the WAL writer gives it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteBatch {
    pub new_series: Vec<NewSeries>,
    pub rows: Vec<Row>,
}

impl WriteBatch {
    /// Number of field values (InfluxDB's "points") in the batch.
    pub fn point_count(&self) -> usize {
        self.rows.iter().map(|r| r.fields.len()).sum()
    }

    /// Approximate encoded size in bytes (used to bound group commits).
    pub fn approx_bytes(&self) -> usize {
        let series: usize = self.new_series.iter().map(NewSeries::approx_bytes).sum();
        let rows: usize = self.rows.iter().map(Row::approx_bytes).sum();
        series + rows
    }
}

/// The values of one column, all of one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<String>),
}

impl Values {
    /// An empty column of the given type.
    pub fn empty(t: FieldType) -> Values {
        match t {
            FieldType::Float => Values::Float(Vec::new()),
            FieldType::Integer => Values::Integer(Vec::new()),
            FieldType::Unsigned => Values::Unsigned(Vec::new()),
            FieldType::Boolean => Values::Boolean(Vec::new()),
            FieldType::String => Values::String(Vec::new()),
        }
    }

    pub fn field_type(&self) -> FieldType {
        match self {
            Values::Float(_) => FieldType::Float,
            Values::Integer(_) => FieldType::Integer,
            Values::Unsigned(_) => FieldType::Unsigned,
            Values::Boolean(_) => FieldType::Boolean,
            Values::String(_) => FieldType::String,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Integer(v) => v.len(),
            Values::Unsigned(v) => v.len(),
            Values::Boolean(v) => v.len(),
            Values::String(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep the first `n` values (all of them if there are fewer).
    pub fn truncate(&mut self, n: usize) {
        match self {
            Values::Float(v) => v.truncate(n),
            Values::Integer(v) => v.truncate(n),
            Values::Unsigned(v) => v.truncate(n),
            Values::Boolean(v) => v.truncate(n),
            Values::String(v) => v.truncate(n),
        }
    }

    /// The value at `i` as a [`FieldValue`]. Panics if `i` is out of range, like slice indexing.
    pub fn get(&self, i: usize) -> FieldValue {
        match self {
            Values::Float(v) => FieldValue::Float(v[i]),
            Values::Integer(v) => FieldValue::Integer(v[i]),
            Values::Unsigned(v) => FieldValue::Unsigned(v[i]),
            Values::Boolean(v) => FieldValue::Boolean(v[i]),
            Values::String(v) => FieldValue::String(v[i].clone()),
        }
    }

    /// Append a value; returns `false` (and appends nothing) if its type differs from the column's.
    pub fn push(&mut self, value: FieldValue) -> bool {
        match (self, value) {
            (Values::Float(v), FieldValue::Float(x)) => v.push(x),
            (Values::Integer(v), FieldValue::Integer(x)) => v.push(x),
            (Values::Unsigned(v), FieldValue::Unsigned(x)) => v.push(x),
            (Values::Boolean(v), FieldValue::Boolean(x)) => v.push(x),
            (Values::String(v), FieldValue::String(x)) => v.push(x),
            _ => return false,
        }
        true
    }
}

/// One (series, field) run: timestamps strictly ascending, one value per timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub timestamps: Vec<Timestamp>,
    pub values: Values,
}

impl Column {
    pub fn new(t: FieldType) -> Column {
        Column {
            timestamps: Vec::new(),
            values: Values::empty(t),
        }
    }

    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// A copy of the points in `range` (which must lie within the column).
    pub fn copy_range(&self, range: std::ops::Range<usize>) -> Column {
        let r = range.clone();
        let values = match &self.values {
            Values::Float(v) => Values::Float(v[r].to_vec()),
            Values::Integer(v) => Values::Integer(v[r].to_vec()),
            Values::Unsigned(v) => Values::Unsigned(v[r].to_vec()),
            Values::Boolean(v) => Values::Boolean(v[r].to_vec()),
            Values::String(v) => Values::String(v[r].to_vec()),
        };
        Column {
            timestamps: self.timestamps[range].to_vec(),
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_key_round_trips_with_escapes() {
        let tags = vec![
            ("a b".to_string(), "x,y".to_string()),
            ("k=".to_string(), "v=w".to_string()),
        ];
        let key = series_key("cpu load,x", &tags);
        assert_eq!(key, "cpu\\ load\\,x,a\\ b=x\\,y,k\\==v\\=w");
        let (m, t) = parse_series_key(&key);
        assert_eq!(m, "cpu load,x");
        assert_eq!(t, tags);
    }

    #[test]
    fn plain_series_key() {
        let key = series_key("cpu", &[("host".into(), "a".into())]);
        assert_eq!(key, "cpu,host=a");
        // Multi-byte characters next to escaped ones.
        let tags = vec![("hé=".to_string(), "ü x,€".to_string())];
        let key = series_key("ç m", &tags);
        assert_eq!(key, "ç\\ m,hé\\==ü\\ x\\,€");
        assert_eq!(parse_series_key(&key), ("ç m".to_string(), tags));
        assert_eq!(parse_series_key("cpu"), ("cpu".to_string(), vec![]));
    }
}
