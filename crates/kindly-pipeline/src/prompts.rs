//! Replies rendered from the templates in `prompts/` (minijinja). Templates are data, not code:
//! a support team rewrites the tone without rebuilding Kindly.

use std::path::Path;

use kindly_core::{KnowledgeHit, Ticket};
use minijinja::{Environment, context};

use crate::PipelineError;

/// The templates Kindly needs, all read and checked at start-up.
pub const TEMPLATES: [&str; 2] = ["answer.md.j2", "handoff_draft.md.j2"];

pub struct Prompts {
    env: Environment<'static>,
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts").finish_non_exhaustive()
    }
}

impl Prompts {
    /// Loads every template from `dir`; a missing or malformed template fails start-up.
    pub fn load(dir: &Path) -> Result<Self, PipelineError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for name in TEMPLATES {
            let path = dir.join(name);
            let source = std::fs::read_to_string(&path).map_err(|e| PipelineError::Prompt {
                name: path.display().to_string(),
                message: e.to_string(),
            })?;
            env.add_template_owned(name, source)
                .map_err(|e| PipelineError::Prompt { name: name.into(), message: e.to_string() })?;
        }
        Ok(Self { env })
    }

    /// Kindly's reply to a customer, from approved knowledge.
    pub fn answer(&self, ticket: &Ticket, hit: &KnowledgeHit, brand: &str) -> Result<String, PipelineError> {
        self.render("answer.md.j2", ticket, hit, brand)
    }

    /// A suggested reply for the agent who takes a handoff.
    pub fn draft(&self, ticket: &Ticket, hit: &KnowledgeHit, brand: &str) -> Result<String, PipelineError> {
        self.render("handoff_draft.md.j2", ticket, hit, brand)
    }

    fn render(
        &self,
        name: &str,
        ticket: &Ticket,
        hit: &KnowledgeHit,
        brand: &str,
    ) -> Result<String, PipelineError> {
        let err = |e: minijinja::Error| PipelineError::Prompt { name: name.into(), message: e.to_string() };
        let first_name = ticket.customer.name.as_deref().and_then(|n| n.split_whitespace().next());
        let rendered = self
            .env
            .get_template(name)
            .map_err(err)?
            .render(context! {
                customer_name => first_name,
                subject => ticket.subject,
                title => hit.title,
                answer => hit.answer.trim(),
                link => hit.link,
                source => hit.reference.source.as_str(),
                brand => brand,
            })
            .map_err(err)?;
        Ok(rendered.trim().to_owned())
    }
}
