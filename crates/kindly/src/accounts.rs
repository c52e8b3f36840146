//! `kindly users add` and `kindly tokens create`: accounts without a running server. Passwords
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
    Add(AddUser),
}

#[derive(Debug, Args)]
pub struct AddUser {
    #[arg(long)]
    email: String,
    /// agent, knowledge_manager or admin
    #[arg(long)]
    role: Role,
    /// Read the password from the first line of stdin (otherwise from KINDLY_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue an API token and print it once on stdout; only its SHA-256 is stored.
    Create(CreateToken),
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
    let UsersCommand::Add(add) = command;
    let password = if add.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_to_string(&mut line).context("reading the password from stdin")?;
        line.lines().next().unwrap_or_default().to_owned()
    } else {
        std::env::var("KINDLY_PASSWORD")
            .context("give the password on stdin with --password-stdin, or in KINDLY_PASSWORD")?
    };
    let store = open(&settings).await?;
    let user = accounts::add_user(&store, &add.email, add.role, &password).await?;
    store.close().await;
    eprintln!("added {} as {}", user.email, user.role);
    Ok(())
}

pub async fn tokens(settings: Settings, command: TokensCommand) -> anyhow::Result<()> {
    let TokensCommand::Create(create) = command;
    let store = open(&settings).await?;
    let token = match (create.user, create.role, create.name) {
        (Some(email), _, _) => accounts::token_for_user(&store, &email).await?,
        (None, Some(role), Some(name)) => accounts::service_token(&store, &name, role).await?,
        _ => anyhow::bail!("give --user EMAIL, or --role ROLE with --name NAME"),
    };
    store.close().await;
    println!("{token}");
    eprintln!("keep this token: Kindly stores only its hash and cannot show it again");
    Ok(())
}

/// On a fresh install, creates the first admin and prints how to sign in, once.
pub async fn first_admin(store: &SqliteStore, settings: &Settings) -> anyhow::Result<()> {
    if let Some(admin) = accounts::first_admin(store).await? {
        eprintln!(
            "\nFirst start: created the admin {email}\n  sign in at http://{bind}/sign-in with password {password}\n  API token (export KINDLY_TOKEN={token})\nThese are shown once; add people with `kindly users add`.\n",
            email = admin.email,
            bind = settings.server.bind,
            password = admin.password,
            token = admin.token,
        );
    }
    Ok(())
}
