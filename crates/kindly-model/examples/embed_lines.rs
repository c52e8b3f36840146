//! Embeds each line of a text file with a sentence-embedding model folder and writes the vectors
//! as little-endian f32, one row per line, for the exploration scripts under `scripts/`:
//!
//!     cargo run --release -q -p kindly-model --example embed_lines -- \
//!         models/all-MiniLM-L6-v2 lines.txt lines.f32

use std::error::Error;
use std::io::Write;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, input, output] = args.as_slice() else {
        return Err("usage: embed_lines MODEL_DIR LINES.txt OUT.f32".into());
    };
    let embedder = kindly_model::SentenceEmbedder::load(Path::new(model))?;
    let text = std::fs::read_to_string(input)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut done = 0;
    let rows = embedder.embed_rows(&lines, 64, |n| {
        done += n;
        eprint!("\r{done}/{} lines", lines.len());
    })?;
    eprintln!();
    let mut file = std::io::BufWriter::new(std::fs::File::create(output)?);
    for v in rows {
        file.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}
