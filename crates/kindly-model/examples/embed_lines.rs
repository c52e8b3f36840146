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
    // Batches of similar length pad less.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| lines[i].len());
    let d = embedder.dimension();
    let mut out = vec![0f32; lines.len() * d];
    for (n, batch) in order.chunks(32).enumerate() {
        let texts: Vec<&str> = batch.iter().map(|&i| lines[i]).collect();
        for (vector, &i) in embedder.embed(&texts)?.iter().zip(batch) {
            out[i * d..(i + 1) * d].copy_from_slice(vector);
        }
        if n % 50 == 0 {
            eprintln!("{}/{}", n * 32, lines.len());
        }
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(output)?);
    for v in out {
        file.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}
