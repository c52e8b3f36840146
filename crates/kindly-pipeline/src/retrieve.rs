//! retrieve: the closest knowledge (articles and resolutions), one hit per record, described for
//! people with its title, intents and customer-ready answer. Dense similarity finds the
//! candidates; with `lexical_weight` above zero, BM25 over the same texts re-ranks them (hybrid
//! retrieval). A hit's `score` stays the cosine similarity, the scale the policy's thresholds use.

use kindly_core::{KeywordHit, KnowledgeHit, ScoredPoint, SearchFilter, Source};

use crate::{Pipeline, PipelineError};

/// Points fetched per knowledge item wanted: an article has many points (title, questions,
/// chunks), so more points than items are needed to find `n` distinct items.
const POINTS_PER_ITEM: usize = 8;

impl Pipeline {
    /// The `n` knowledge items closest to a text, approved or not, best first: what the studio's
    /// "try it" box and the review queue's near-duplicates show.
    pub async fn closest_knowledge(&self, text: &str, n: usize) -> Result<Vec<KnowledgeHit>, PipelineError> {
        let vector = self.embedder.embed(vec![text.to_owned()]).await?.pop().unwrap_or_default();
        self.knowledge_hits(text, &vector, SearchFilter::default(), n).await
    }

    /// The `n` best knowledge items for a text and its vector, best first.
    pub(crate) async fn knowledge_hits(
        &self,
        text: &str,
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
        let weight = self.settings.lexical_weight;
        if weight > 0.0 {
            let lexical = self.store.keyword_search(text, n * POINTS_PER_ITEM, filter).await?;
            rerank(&mut best, &lexical, weight);
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

/// Orders dense candidates by `cosine + weight × bm25 / best bm25` (each record's lexical score
/// relative to the query's best lexical match, so 0 to 1). Records without a lexical match keep
/// their cosine; the sort is stable.
fn rerank(candidates: &mut [ScoredPoint], lexical: &[KeywordHit], weight: f32) {
    let Some(top) = lexical.first().map(|h| h.score).filter(|s| *s > 0.0) else { return };
    let fused = |p: &ScoredPoint| {
        let lexical = lexical.iter().find(|h| h.source == p.source && h.ref_id == p.ref_id);
        p.score + weight * lexical.map_or(0.0, |h| h.score / top)
    };
    candidates.sort_by(|a, b| fused(b).total_cmp(&fused(a)));
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use kindly_core::{PointKind, PointStatus};

    use super::*;

    fn point(ref_id: &str, score: f32) -> ScoredPoint {
        ScoredPoint {
            id: format!("article:{ref_id}:question:0"),
            source: Source::Article,
            ref_id: ref_id.into(),
            kind: PointKind::Question,
            status: PointStatus::Approved,
            intent: None,
            text: String::new(),
            score,
        }
    }

    fn keyword(ref_id: &str, score: f32) -> KeywordHit {
        KeywordHit { source: Source::Article, ref_id: ref_id.into(), score }
    }

    #[test]
    fn words_in_common_lift_a_close_second() {
        let mut c = vec![point("refund", 0.80), point("chargeback", 0.78), point("track", 0.70)];
        rerank(&mut c, &[keyword("chargeback", 9.0), keyword("refund", 3.0)], 0.1);
        let order: Vec<&str> = c.iter().map(|p| p.ref_id.as_str()).collect();
        assert_eq!(order, ["chargeback", "refund", "track"]);
        assert_eq!(c[0].score, 0.78, "the score stays the cosine");
        // a far second is not lifted past the first
        let mut c = vec![point("refund", 0.90), point("chargeback", 0.60)];
        rerank(&mut c, &[keyword("chargeback", 9.0)], 0.1);
        assert_eq!(c[0].ref_id, "refund");
        // no lexical match: dense order
        let mut c = vec![point("a", 0.5), point("b", 0.4)];
        rerank(&mut c, &[], 0.1);
        assert_eq!(c[0].ref_id, "a");
    }
}
