//! Times the embedder on texts of growing length: `cargo run --release --example embed_timing`.
use std::time::Instant;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    let model = kindly_model::SentenceEmbedder::load(&dir).unwrap();
    for words in [8, 32, 64, 128, 200] {
        let text = "the purifier filter light keeps blinking ".repeat(words / 6 + 1);
        for batch in [1, 8] {
            let texts: Vec<&str> = vec![text.as_str(); batch];
            model.embed(&texts).unwrap();
            let start = Instant::now();
            let rounds = 5;
            for _ in 0..rounds {
                model.embed(&texts).unwrap();
            }
            let per_text = start.elapsed().as_secs_f64() * 1000.0 / (rounds * batch) as f64;
            println!("~{words} words, batch {batch}: {per_text:.1} ms per text");
        }
    }
}
