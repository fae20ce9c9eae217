//! vctsdb's CSV (`shared/INGEST_FORMATS.md` §2.3): a header row gives the columns (timestamp,
//! value, the series column naming the measurement, every other column a tag), and each data
//! row is one line of line protocol.

use super::{finite, float_text, line, RecordOptions};

/// Which columns of a CSV file hold what.
#[derive(Clone, Debug)]
pub struct CsvLayout {
    timestamp: usize,
    value: usize,
    series: Option<usize>,
    tags: Vec<(usize, String)>,
    width: usize,
}

impl CsvLayout {
    /// The layout a header row gives; the timestamp and value columns are required.
    pub fn new<'a>(
        header: impl IntoIterator<Item = &'a str>,
        opts: &RecordOptions,
    ) -> Result<CsvLayout, String> {
        let names: Vec<&str> = header.into_iter().collect();
        let find = |n: &str| names.iter().position(|h| *h == n);
        let (Some(timestamp), Some(value)) =
            (find(&opts.timestamp_column), find(&opts.value_column))
        else {
            return Err(format!(
                "CSV headers must contain {} and {} fields",
                opts.timestamp_column, opts.value_column
            ));
        };
        if let Some((i, twice)) = names
            .iter()
            .enumerate()
            .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(format!(
                "CSV header names column {twice:?} twice (column {})",
                i + 1
            ));
        }
        let series = find(&opts.series_column);
        if series.is_none() && opts.measurement.is_none() {
            return Err(format!(
                "no {} column: give the measurement (--measurement to strata import, ?measurement= to /write)",
                opts.series_column
            ));
        }
        let tags = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != timestamp && *i != value && Some(*i) != series)
            .map(|(i, n)| (i, n.to_string()))
            .collect();
        Ok(CsvLayout {
            timestamp,
            value,
            series,
            tags,
            width: names.len(),
        })
    }

    /// The line of one data row.
    pub fn line<'a>(
        &self,
        row: impl IntoIterator<Item = &'a str>,
        opts: &RecordOptions,
    ) -> Result<String, String> {
        let cells: Vec<&str> = row.into_iter().collect();
        if cells.len() != self.width {
            return Err(format!(
                "{} fields, the header has {}",
                cells.len(),
                self.width
            ));
        }
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let ts_text = cell(self.timestamp);
        let ts: i64 = ts_text
            .parse()
            .map_err(|_| format!("timestamp: cannot parse '{ts_text}'"))?;
        let v_text = cell(self.value);
        let v: f64 = v_text
            .parse()
            .map_err(|_| format!("value: cannot parse '{v_text}'"))?;
        let v = finite(v, "value")?;
        let measurement = match (self.series.map(cell), &opts.measurement) {
            (Some(s), _) if !s.is_empty() => s.to_string(),
            (_, Some(m)) => m.clone(),
            _ => return Err(format!("empty {} (measurement)", opts.series_column)),
        };
        let tags: Vec<(String, String)> = self
            .tags
            .iter()
            .filter(|(i, _)| !cell(*i).is_empty())
            .map(|(i, name)| (name.clone(), cell(*i).to_string()))
            .collect();
        line(
            &measurement,
            &tags,
            &[("value".to_string(), float_text(v))],
            ts,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json_records::tests::{opts, parse_back};
    use proptest::prelude::*;

    fn csv_layout(header: &str) -> Result<CsvLayout, String> {
        CsvLayout::new(header.split(','), &opts())
    }

    #[test]
    fn vctsdb_csv_rows() {
        let l = csv_layout("timestamp,value,series,region,datacenter").expect("layout");
        assert_eq!(
            l.line("1000,42.5,test_series,us-west,dc1".split(','), &opts()),
            Ok("test_series,region=us-west,datacenter=dc1 value=42.5 1000".into())
        );
        assert_eq!(
            l.line("2000,4.5e1,s,,dc2".split(','), &opts()),
            Ok("s,datacenter=dc2 value=45.0 2000".into())
        );
        assert_eq!(
            l.line("1000.0,1,s,a,b".split(','), &opts()),
            Err("timestamp: cannot parse '1000.0'".into())
        );
        assert_eq!(
            l.line("1,not_a_number,s,a,b".split(','), &opts()),
            Err("value: cannot parse 'not_a_number'".into())
        );
        assert!(l.line("1,NaN,s,a,b".split(','), &opts()).is_err());
        assert!(l.line("1,inf,s,a,b".split(','), &opts()).is_err());
        assert_eq!(
            l.line("1,2,s".split(','), &opts()),
            Err("3 fields, the header has 5".into())
        );
        assert!(csv_layout("time,value,series")
            .expect_err("no timestamp")
            .contains("must contain timestamp and value"));
        assert!(
            csv_layout("timestamp,value").is_err(),
            "no series, no --measurement"
        );
        assert_eq!(
            csv_layout("timestamp,value,series,host,host").unwrap_err(),
            "CSV header names column \"host\" twice (column 5)"
        );
    }

    proptest! {
        /// Any CSV row is either refused with a reason or read back as the same point.
        #[test]
        fn csv_rows_read_back_or_are_refused(
            ts in "[-+0-9.e]{1,20}",
            v in "[-+0-9.eainfNI]{1,12}",
            series in "[a-z ,=]{0,6}",
            region in "[a-z ,=]{0,6}",
        ) {
            let l = csv_layout("timestamp,value,series,region").expect("layout");
            let row = [ts.as_str(), v.as_str(), series.as_str(), region.as_str()];
            match l.line(row, &opts()) {
                Err(reason) => prop_assert!(!reason.is_empty()),
                Ok(line) => {
                    let (pm, ptags, pv, pts) = parse_back(&line);
                    prop_assert_eq!(pm, series);
                    let want: Vec<(String, String)> = if region.is_empty() {
                        vec![]
                    } else {
                        vec![("region".into(), region)]
                    };
                    prop_assert_eq!(ptags, want);
                    prop_assert_eq!(pv.to_bits(), v.parse::<f64>().expect("parsed").to_bits());
                    prop_assert_eq!(pts, ts.parse::<i64>().expect("parsed"));
                }
            }
        }

    }
}
