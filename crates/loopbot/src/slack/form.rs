//! The fields of a form body (`application/x-www-form-urlencoded`), decoded in runs: Slack's
//! slash commands and interaction payloads both come this way.
//!
//! An interaction's `payload` is the whole view as JSON, 10–30 kB once encoded, and nearly a
//! third of its characters are escapes. `url::form_urlencoded` decodes it byte by byte, into
//! three copies (`+` replaced, then `%XX`, then checked as UTF-8): under a load of scorecard
//! submissions it took 12 % of the server's CPU (`perf`, docs/performance.md, thirteenth
//! run). Here the plain runs between escapes are copied whole, found with `memchr`, into one
//! buffer. The answers are `form_urlencoded`'s: the tests compare the two.

/// Every field of `body`, decoded, in order. Like `form_urlencoded`: empty pieces between `&`
/// are skipped, `+` is a space, a `%` not followed by two hex digits stays as it is, and bytes
/// that are not UTF-8 become U+FFFD.
pub fn pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match memchr::memchr(b'=', pair) {
            Some(at) => (decode(&pair[..at]), decode(&pair[at + 1..])),
            None => (decode(pair), String::new()),
        })
}

/// The decoded value of the first field named `name` in `body`, if there is one.
pub fn field(body: &[u8], name: &str) -> Option<String> {
    pairs(body).find_map(|(key, value)| (key == name).then_some(value))
}

/// `raw` with `+` and `%XX` decoded.
fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = memchr::memchr2(b'%', b'+', rest) {
        out.extend_from_slice(&rest[..at]);
        let escaped = rest
            .get(at + 1..at + 3)
            .and_then(|hex| Some(hex_digit(hex[0])? << 4 | hex_digit(hex[1])?));
        rest = match (rest[at], escaped) {
            (b'+', _) => {
                out.push(b' ');
                &rest[at + 1..]
            }
            (_, Some(byte)) => {
                out.push(byte);
                &rest[at + 3..]
            }
            (_, None) => {
                out.push(b'%');
                &rest[at + 1..]
            }
        };
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::{field, pairs};

    /// What `url::form_urlencoded` gives for the same field.
    fn theirs(body: &[u8], name: &str) -> Option<String> {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn a_field_reads_as_form_urlencoded_reads_it() {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "x")
            .append_pair("payload", r#"{"a":"b c+d%e&f=g","é":"✓ 😀"}"#)
            .finish();
        let bodies: Vec<&[u8]> = vec![
            encoded.as_bytes(),
            b"payload=%7B%22a%22%3A1%7D",
            b"payload=50%25+off",
            b"payload=bad%zzescape%4",
            b"payload=%",
            b"payload=%f0%9f%98",
            b"payload=%ff%fe+x",
            b"&&payload&payload=second",
            b"pay%6Coad=named+with+an+escape",
            b"payload=a=b=c",
            b"other=1",
            b"",
            b"payload=",
        ];
        for body in bodies {
            assert_eq!(
                field(body, "payload"),
                theirs(body, "payload"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let command = b"token=x&&command=%2Floop&text=start+Ada+Lovelace&user_id=U1&empty=&bare";
        let theirs_all: Vec<(String, String)> =
            url::form_urlencoded::parse(command).into_owned().collect();
        assert_eq!(pairs(command).collect::<Vec<_>>(), theirs_all);
        assert_eq!(
            field(encoded.as_bytes(), "payload").as_deref(),
            Some(r#"{"a":"b c+d%e&f=g","é":"✓ 😀"}"#)
        );
        assert_eq!(
            field(b"&&payload&payload=second", "payload").as_deref(),
            Some("")
        );
    }
}
