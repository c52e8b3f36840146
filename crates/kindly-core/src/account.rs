//! Who may use Kindly and what each role may do. The rules are pure functions of the role, so
//! the HTTP layer asks one place ([`Role::may`]) and the table of cases is tested here.

use serde::{Deserialize, Serialize};

/// The three kinds of people (and API tokens) that use Kindly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the handoff queue: claims, replies, resolves.
    Agent,
    /// Curates knowledge: articles, proposed resolutions, gaps, the automation dashboard.
    KnowledgeManager,
    /// Everything, including acting for any agent through the API.
    Admin,
}

/// Something a request wants to do, checked against the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read tickets, the queue, knowledge and the dashboard; submit tickets.
    Read,
    /// Claim, release and resolve handoffs the caller owns (or unclaimed ones).
    WorkQueue,
    /// Resolve or release a handoff someone else has claimed.
    TakeOverClaims,
    /// Create, edit and retire articles; review proposed resolutions.
    EditKnowledge,
    /// Add people, change their roles and passwords, disable and enable them.
    ManagePeople,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::KnowledgeManager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::KnowledgeManager => "knowledge_manager",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// A short label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Agent => "Agent",
            Self::KnowledgeManager => "Knowledge manager",
            Self::Admin => "Admin",
        }
    }

    /// Whether this role grants `permission`. A knowledge manager may claim and resolve tickets
    /// (to learn the queue), but never a ticket someone else has claimed; an agent never edits
    /// knowledge.
    pub fn may(self, permission: Permission) -> bool {
        match permission {
            Permission::Read | Permission::WorkQueue => true,
            Permission::TakeOverClaims | Permission::ManagePeople => self == Self::Admin,
            Permission::EditKnowledge => matches!(self, Self::KnowledgeManager | Self::Admin),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("unknown role {s:?}: use agent, knowledge_manager or admin"))
    }
}

/// A person who signs in to the pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_exactly_its_permissions() {
        use Permission::*;
        let table = [
            (Role::Agent, [true, true, false, false, false]),
            (Role::KnowledgeManager, [true, true, false, true, false]),
            (Role::Admin, [true, true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, WorkQueue, TakeOverClaims, EditKnowledge, ManagePeople].map(|p| role.may(p));
            assert_eq!(got, expected, "{role}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
