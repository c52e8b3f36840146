//! `kindly users add|list|set-role|set-password|disable|enable` and `kindly tokens
//! create|list|revoke`: accounts without a running server; a running server sees each change from
//! its next request. Passwords
//! come from stdin or an environment variable, never from the command line (where `ps` and shell
//! history would keep them), and are never echoed.

use std::io::Read;

use anyhow::Context;
use clap::{Args, Subcommand};
use kindly_core::Role;
use kindly_server::Settings;
use kindly_server::auth::accounts;
use kindly_store::SqliteStore;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a person who signs in to the console or the studio.
    Add {
        #[arg(long)]
        email: String,
        /// agent, knowledge_manager or admin
        #[arg(long)]
        role: Role,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List the people: email, role, created, disabled. Never their passwords.
    List,
    /// Give someone another role; their sessions and API tokens carry it from the next request.
    SetRole {
        #[arg(long)]
        email: String,
        /// agent, knowledge_manager or admin
        #[arg(long)]
        role: Role,
    },
    /// Set a new password (someone forgot theirs); it signs them out everywhere.
    SetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Someone left: they cannot sign in, and their sessions and API tokens stop at once. Their
    /// name stays on the tickets they worked.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled person sign in again (their old API tokens stay revoked).
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of stdin (otherwise from KINDLY_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<String> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_to_string(&mut line).context("reading the password from stdin")?;
            Ok(line.lines().next().unwrap_or_default().to_owned())
        } else {
            std::env::var("KINDLY_PASSWORD")
                .context("give the password on stdin with --password-stdin, or in KINDLY_PASSWORD")
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue an API token and print it once on stdout; only its SHA-256 is stored.
    Create(CreateToken),
    /// List the API tokens: id, name (or user), role, created, revoked. Never the tokens.
    List,
    /// Revoke an API token by the id `tokens list` shows; it stops working at once, also on a
    /// running server.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateToken {
    /// Issue the token for this user: it carries the user's role.
    #[arg(long, conflicts_with_all = ["role", "name"])]
    user: Option<String>,
    /// A service token's role (with --name), e.g. for a helpdesk integration or a scraper.
    #[arg(long, requires = "name")]
    role: Option<Role>,
    /// A service token's name.
    #[arg(long, requires = "role")]
    name: Option<String>,
}

pub(crate) async fn open(settings: &Settings) -> anyhow::Result<SqliteStore> {
    let path = settings.data.database();
    SqliteStore::open(&path).await.with_context(|| format!("opening the database {}", path.display()))
}

pub async fn users(settings: Settings, command: UsersCommand) -> anyhow::Result<()> {
    // The password is read before the database is opened, so a missing one fails fast.
    let password = match &command {
        UsersCommand::Add { password, .. } | UsersCommand::SetPassword { password, .. } => {
            Some(password.read()?)
        }
        _ => None,
    };
    let store = open(&settings).await?;
    let result = change_users(&store, command, password.unwrap_or_default()).await;
    store.close().await;
    result
}

async fn change_users(store: &SqliteStore, command: UsersCommand, password: String) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    match command {
        UsersCommand::Add { email, role, .. } => {
            let user = accounts::add_user(store, &email, role, &password).await?;
            eprintln!("added {} as {}", user.email, user.role);
        }
        UsersCommand::List => list_users(store).await?,
        UsersCommand::SetRole { email, role } => {
            let user = store.set_user_role(email.trim(), role).await.map_err(|e| unknown_user(e, &email))?;
            eprintln!("{} is now {}", user.email, user.role);
        }
        UsersCommand::SetPassword { email, .. } => {
            let user = accounts::reset_password(store, &email, &password)
                .await
                .map_err(|e| unknown_user(e, &email))?;
            eprintln!("set a new password for {}; their sessions have ended", user.email);
        }
        UsersCommand::Disable { email } => {
            match store.disable_user(email.trim(), now).await.map_err(|e| unknown_user(e, &email))? {
                true => eprintln!("disabled {email}: signed out everywhere, API tokens revoked"),
                false => eprintln!("{email} was already disabled"),
            }
        }
        UsersCommand::Enable { email } => {
            match store.enable_user(email.trim()).await.map_err(|e| unknown_user(e, &email))? {
                true => eprintln!("enabled {email}: they can sign in again"),
                false => eprintln!("{email} was not disabled"),
            }
        }
    }
    Ok(())
}

/// An unknown email says where to look; other errors pass through.
fn unknown_user(e: impl Into<anyhow::Error>, email: &str) -> anyhow::Error {
    let e = e.into();
    match e.downcast_ref::<kindly_core::StoreError>() {
        Some(kindly_core::StoreError::NotFound(_)) => {
            anyhow::anyhow!("no user has the email {email:?} (`kindly users list` shows them)")
        }
        _ => e,
    }
}

/// One line per person on stdout, tab-separated under a header, so that scripts can read it.
async fn list_users(store: &SqliteStore) -> anyhow::Result<()> {
    outln!("email\trole\tcreated\tdisabled");
    for u in store.users().await? {
        let disabled = u.disabled_at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339());
        outln!("{}\t{}\t{}\t{disabled}", u.user.email, u.user.role, u.created_at.to_rfc3339());
    }
    Ok(())
}

pub async fn tokens(settings: Settings, command: TokensCommand) -> anyhow::Result<()> {
    let store = open(&settings).await?;
    let result = match command {
        TokensCommand::Create(create) => create_token(&store, create).await,
        TokensCommand::List => list_tokens(&store).await,
        TokensCommand::Revoke { id } => revoke_token(&store, &id).await,
    };
    store.close().await;
    result
}

async fn create_token(store: &SqliteStore, create: CreateToken) -> anyhow::Result<()> {
    let token = match (create.user, create.role, create.name) {
        (Some(email), _, _) => accounts::token_for_user(store, &email).await?,
        (None, Some(role), Some(name)) => accounts::service_token(store, &name, role).await?,
        _ => anyhow::bail!("give --user EMAIL, or --role ROLE with --name NAME"),
    };
    outln!("{token}");
    eprintln!("keep this token: Kindly stores only its hash and cannot show it again");
    Ok(())
}

/// One line per token on stdout, tab-separated under a header, so that scripts can read it.
async fn list_tokens(store: &SqliteStore) -> anyhow::Result<()> {
    outln!("id\tname\trole\tcreated\trevoked");
    for t in store.tokens().await? {
        let revoked = t.revoked_at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339());
        outln!("{}\t{}\t{}\t{}\t{revoked}", t.id, t.name, t.role, t.created_at.to_rfc3339());
    }
    Ok(())
}

async fn revoke_token(store: &SqliteStore, id: &str) -> anyhow::Result<()> {
    let id = id.trim();
    match store.revoke_token(id, chrono::Utc::now()).await {
        Ok(true) => eprintln!("revoked API token {id}"),
        Ok(false) => eprintln!("API token {id} was already revoked"),
        Err(kindly_core::StoreError::NotFound(_)) => {
            anyhow::bail!("no API token has the id {id:?} (`kindly tokens list` shows them)")
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// On a fresh install, creates the first admin and prints how to sign in, once.
pub async fn first_admin(store: &SqliteStore, settings: &Settings) -> anyhow::Result<()> {
    if let Some(admin) = accounts::first_admin(store).await? {
        eprintln!(
            "\nFirst start: created the admin {email}\n  sign in at http://{bind}/sign-in with password {password}\n  API token (export KINDLY_TOKEN={token})\nThese are shown once. Add people on http://{bind}/admin/people or with `kindly users add`.\n",
            email = admin.email,
            bind = settings.server.bind,
            password = admin.password,
            token = admin.token,
        );
    }
    Ok(())
}
