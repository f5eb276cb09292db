//! csv2json-rust is Hearth's Rust example: a reactor (docs/abi.md), a
//! cdylib for WASI preview1 built with rustc alone, that turns CSV (RFC
//! 4180: quoted fields with "" for a quote, commas and newlines inside
//! quotes, CRLF or LF) into a JSON array with one object per row, keyed by
//! the header row. A row shorter than the header lacks the missing keys; a
//! longer one is an error (400), as is an unterminated quote.
//!
//! Build: sh build.sh (hearth build -f functions/csv2json-rust/hearth.yaml)

use std::cell::RefCell;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = RefCell::new(Vec::new());
    static OUTPUT: RefCell<Vec<u8>> = RefCell::new(Vec::new());
}

#[no_mangle]
pub extern "C" fn hearth_alloc(size: i32) -> *mut u8 {
    INPUT.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.resize(size.max(0) as usize, 0);
        buf.as_mut_ptr()
    })
}

#[no_mangle]
pub extern "C" fn hearth_handle(_meta: *const u8, _meta_len: i32, body: *const u8, body_len: i32) -> i64 {
    // SAFETY: the host passes a range of the input buffer.
    let body = unsafe { std::slice::from_raw_parts(body, body_len.max(0) as usize) };
    let (head, answer): (&[u8], Vec<u8>) = match convert(body) {
        Ok(json) => (b"Status: 200\nContent-Type: application/json\n\n", json.into_bytes()),
        Err(msg) => {
            eprintln!("csv2json-rust: {}", msg);
            (b"Status: 400\nContent-Type: text/plain; charset=utf-8\n\n", (msg + "\n").into_bytes())
        }
    };
    OUTPUT.with(|out| {
        let mut out = out.borrow_mut();
        out.clear();
        out.extend_from_slice(head);
        out.extend_from_slice(&answer);
        ((out.as_ptr() as i64) << 32) | out.len() as i64
    })
}

/// parse reads CSV records.
fn parse(input: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = input.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    let mut any = false; // the row has begun
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
                    field.push(c)
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                any = true
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                if any || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                any = false
            }
            _ => {
                field.push(c);
                any = true
            }
        }
    }
    if quoted {
        return Err(format!("line {}: a quoted field is not closed", line));
    }
    if any || !field.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// convert is the JSON of a CSV document with a header row.
fn convert(body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the input is not UTF-8: {}", e))?;
    let rows = parse(text.trim_start_matches('\u{feff}'))?;
    let mut out = String::from("[");
    if let Some((header, records)) = rows.split_first() {
        for (i, rec) in records.iter().enumerate() {
            if rec.len() > header.len() {
                return Err(format!("row {} has {} fields, the header {}", i + 2, rec.len(), header.len()));
            }
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            for (j, value) in rec.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                quote(&mut out, &header[j]);
                out.push(':');
                quote(&mut out, value);
            }
            out.push('}');
        }
    }
    out.push_str("]\n");
    Ok(out)
}

/// quote appends s as a JSON string.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn converts() {
        assert_eq!(convert(b"a,b\n1,2\n").unwrap(), "[{\"a\":\"1\",\"b\":\"2\"}]\n");
        assert_eq!(convert(b"a,b\r\n\"x, \"\"y\"\"\",\"2\n3\"\r\n4").unwrap(), "[{\"a\":\"x, \\\"y\\\"\",\"b\":\"2\\n3\"},{\"a\":\"4\"}]\n");
        assert!(convert(b"a\n\"open").is_err());
        assert!(convert(b"a\n1,2").is_err());
    }
}
