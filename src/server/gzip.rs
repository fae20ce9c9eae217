//! Request bodies sent with `Content-Encoding: gzip`: every gzip member is decoded (a body may be
//! several members one after another, as concatenated `gzip` output or a client that compresses
//! in chunks; InfluxDB 1.x stores them all), and the decompressed size is bounded while it is
//! read, so a small body that inflates past the limit (a gzip bomb) is refused before more than
//! `limit + 1` bytes of it exist.

use std::io::Read;

use axum::http::StatusCode;

/// Decompress a gzip body (`Content-Encoding: gzip`, as Telegraf and client libraries send),
/// every member of it, refusing to produce more than `limit` bytes: 413 past the limit, 400 if
/// it is not gzip.
pub(super) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, (StatusCode, String)> {
    gunzip_from(data, limit)
}

fn gunzip_from(data: impl Read, limit: usize) -> Result<Vec<u8>, (StatusCode, String)> {
    let mut out = Vec::new();
    // One byte past the limit is enough to know the body is too large: reading stops there.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut dec = flate2::read::MultiGzDecoder::new(data).take(cap);
    if let Err(e) = dec.read_to_end(&mut out) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("body is not valid gzip: {e}"),
        ));
    }
    if out.len() > limit {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body too large: the limit is {limit} bytes after decompression (max_body_bytes)"
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::io::Write;

    fn member(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_member_is_decoded() {
        let mut body = member(b"m v=1 1\n");
        body.extend(member(b"m v=2 2\n"));
        body.extend(member(b""));
        body.extend(member(b"m v=3 3\n"));
        assert_eq!(
            gunzip(&body, 1 << 20).unwrap(),
            b"m v=1 1\nm v=2 2\nm v=3 3\n"
        );
    }

    #[test]
    fn the_limit_is_on_all_members_together() {
        let mut body = member(&[b'a'; 600]);
        body.extend(member(&[b'b'; 600]));
        assert_eq!(gunzip(&body, 1200).unwrap().len(), 1200);
        let (status, msg) = gunzip(&body, 1199).unwrap_err();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(msg.contains("after decompression"), "{msg}");
    }

    /// Counts the compressed bytes the decoder takes.
    struct Counting<'a> {
        data: &'a [u8],
        taken: usize,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.taken += n;
            Ok(n)
        }
    }

    #[test]
    fn a_bomb_is_refused_before_it_is_inflated() {
        // 64 members of 4 MiB of zeros each: 256 MiB once inflated, ~260 KB compressed.
        let one = member(&vec![0u8; 4 << 20]);
        let bomb: Vec<u8> = std::iter::repeat_n(one.as_slice(), 64)
            .flatten()
            .copied()
            .collect();
        let mut src = Counting {
            data: &bomb,
            taken: 0,
        };
        let (status, _) = gunzip_from(&mut src, 1 << 20).unwrap_err();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        // Reading stopped in the first member: the rest was never decompressed.
        assert!(
            src.taken < one.len() + (64 << 10),
            "{} of {}",
            src.taken,
            bomb.len()
        );
    }

    #[test]
    fn garbage_is_a_bad_request() {
        let (status, msg) = gunzip(b"m v=1 1\n", 1 << 20).unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(msg.contains("not valid gzip"), "{msg}");
        // A good member followed by garbage is not valid gzip either (InfluxDB 1.x, whose Go
        // reader reads every member, refuses it as well).
        let mut body = member(b"m v=1 1\n");
        body.extend(b"garbage");
        assert_eq!(
            gunzip(&body, 1 << 20).unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
    }
}
