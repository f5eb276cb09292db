// slugify is Hearth's AssemblyScript example: a reactor (docs/abi.md),
// with no imports, that turns a title into a URL slug: ASCII letters and
// digits lowercased, every other run of characters one "-", none at the
// ends, at most ?max= bytes (default 80) cut at a "-" when it can be.
// "Hello, World! Ça va?" answers "hello-world-a-va".
//
// Build: npm install, then asc (hearth build -f functions/slugify/hearth.yaml)

let input: usize = 0;
let inputCap: i32 = 0;
let output: usize = 0;
let outputCap: i32 = 0;

const header = String.UTF8.encode("Status: 200\nContent-Type: text/plain; charset=utf-8\n\n");

export function hearth_alloc(size: i32): usize {
  if (size > inputCap) {
    if (input != 0) heap.free(input);
    input = heap.alloc(<usize>size);
    inputCap = size;
  }
  return input;
}

// maxOf reads max=N from the request line's query ("POST /path?max=20").
function maxOf(meta: usize, metaLen: i32): i32 {
  let end = 0;
  while (end < metaLen && load<u8>(meta + end) != 10) end++;
  for (let i = 0; i + 4 <= end; i++) {
    const c = load<u8>(meta + i);
    if ((c == 63 || c == 38) && load<u8>(meta + i + 1) == 109 && load<u8>(meta + i + 2) == 97 &&
        load<u8>(meta + i + 3) == 120 && i + 4 < end && load<u8>(meta + i + 4) == 61) { // ?max= or &max=
      let n = 0;
      let j = i + 5;
      while (j < end && load<u8>(meta + j) >= 48 && load<u8>(meta + j) <= 57 && n < 100000) {
        n = n * 10 + (load<u8>(meta + j) - 48);
        j++;
      }
      return n > 0 ? n : 80;
    }
  }
  return 80;
}

export function hearth_handle(meta: usize, metaLen: i32, body: usize, bodyLen: i32): i64 {
  const headLen = header.byteLength;
  const need = headLen + bodyLen + 1;
  if (need > outputCap) {
    if (output != 0) heap.free(output);
    output = heap.alloc(<usize>need);
    outputCap = need;
  }
  memory.copy(output, changetype<usize>(header), headLen);
  const limit = maxOf(meta, metaLen);
  const slug = output + headLen;
  let n = 0;
  let dash = false;
  for (let i = 0; i < bodyLen; i++) {
    let c = <i32>load<u8>(body + i);
    if (c >= 65 && c <= 90) c += 32;
    const word = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!word) {
      dash = n > 0;
      continue;
    }
    if (dash) {
      store<u8>(slug + n, 45);
      n++;
      dash = false;
    }
    store<u8>(slug + n, <u8>c);
    n++;
  }
  if (n > limit) {
    let cut = limit;
    while (cut > 0 && load<u8>(slug + cut) != 45) cut--;
    n = cut > 0 ? cut : limit;
  }
  store<u8>(slug + n, 10);
  return (<i64>output << 32) | <i64>(headLen + n + 1);
}
