//! retrieve: the closest knowledge (articles and resolutions), one hit per record, described for
//! people with its title, intents and customer-ready answer.

use kindly_core::{KnowledgeHit, ScoredPoint, SearchFilter, Source};

use crate::{Pipeline, PipelineError};

/// Points fetched per knowledge item wanted: an article has many points (title, questions,
/// chunks), so more points than items are needed to find `n` distinct items.
const POINTS_PER_ITEM: usize = 8;

impl Pipeline {
    /// The `n` knowledge items closest to a text, approved or not, best first: what the studio's
    /// "try it" box and the review queue's near-duplicates show.
    pub async fn closest_knowledge(&self, text: &str, n: usize) -> Result<Vec<KnowledgeHit>, PipelineError> {
        let vector = self.embedder.embed(vec![text.to_owned()]).await?.pop().unwrap_or_default();
        self.knowledge_hits(&vector, SearchFilter::default(), n).await
    }

    /// The `n` best knowledge items for a vector, best first.
    pub(crate) async fn knowledge_hits(
        &self,
        vector: &[f32],
        filter: SearchFilter,
        n: usize,
    ) -> Result<Vec<KnowledgeHit>, PipelineError> {
        let points = self.index.search(vector.to_vec(), n * POINTS_PER_ITEM, filter).await?;
        let mut best: Vec<ScoredPoint> = Vec::new();
        for p in points {
            if !best.iter().any(|b| b.source == p.source && b.ref_id == p.ref_id) {
                best.push(p);
            }
        }
        best.truncate(n);
        let mut hits = Vec::with_capacity(best.len());
        for p in best {
            if let Some(hit) = self.describe(p).await? {
                hits.push(hit);
            }
        }
        Ok(hits)
    }

    /// Looks up the record behind a point. A point whose record is gone is skipped.
    async fn describe(&self, p: ScoredPoint) -> Result<Option<KnowledgeHit>, PipelineError> {
        let reference = kindly_core::KnowledgeRef { source: p.source, id: p.ref_id.clone() };
        Ok(match p.source {
            Source::Article => self.store.article(&p.ref_id).await?.map(|a| KnowledgeHit {
                reference,
                title: a.title.clone(),
                score: p.score,
                status: p.status,
                answer: a.answer().to_owned(),
                link: Some(format!("{}/{}", self.settings.kb_base_url.trim_end_matches('/'), a.id)),
                stage: a.stage,
                intents: a.intents,
                matched: p.text,
            }),
            Source::Resolution => {
                let Ok(id) = p.ref_id.parse() else { return Ok(None) };
                self.store.resolution(id).await?.map(|r| KnowledgeHit {
                    reference,
                    title: first_line(&r.question),
                    score: p.score,
                    status: p.status,
                    intents: vec![r.label()],
                    answer: r.reply,
                    link: None,
                    stage: None,
                    matched: p.text,
                })
            }
        })
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}
