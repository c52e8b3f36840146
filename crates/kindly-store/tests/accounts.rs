//! People leave, change jobs and forget passwords: a disabled user authenticates nothing, a new
//! role reaches the user's sessions and tokens at once, a password reset ends every session, and
//! nobody can lock the last admin out.

use chrono::{Duration, Utc};
use kindly_core::{Role, StoreError};
use kindly_store::SqliteStore;

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    (dir, store)
}

/// A user with one session (`session-<email>`) and one token (`token-<email>`).
async fn person(store: &SqliteStore, email: &str, role: Role) -> String {
    let now = Utc::now();
    let user = store.add_user(email, role, "hash", now).await.unwrap();
    store
        .create_session(&format!("session-{email}"), &user.id, "csrf", now, now + Duration::hours(1))
        .await
        .unwrap();
    store.add_token(email, role, Some(&user.id), &format!("token-{email}"), now).await.unwrap()
}

async fn signed_in(store: &SqliteStore, email: &str) -> bool {
    store.session(&format!("session-{email}"), Utc::now()).await.unwrap().is_some()
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_sessions_and_tokens_stop_at_once() {
    let (_dir, store) = store().await;
    person(&store, "root@example.com", Role::Admin).await;
    let token = person(&store, "ana@example.com", Role::Agent).await;
    assert!(store.disable_user("ana@example.com", Utc::now()).await.unwrap());

    assert!(store.user_by_email("ana@example.com").await.unwrap().is_none());
    assert!(!signed_in(&store, "ana@example.com").await);
    assert!(store.token_owner("token-ana@example.com").await.unwrap().is_none());
    let listed = store.tokens().await.unwrap();
    assert!(listed.iter().find(|t| t.id == token).unwrap().revoked_at.is_some(), "{listed:?}");
    // the other user is untouched
    assert!(signed_in(&store, "root@example.com").await);
    assert!(store.token_owner("token-root@example.com").await.unwrap().is_some());

    assert!(!store.disable_user("ana@example.com", Utc::now()).await.unwrap(), "already disabled");
    let users = store.users().await.unwrap();
    let ana = users.iter().find(|u| u.user.email == "ana@example.com").unwrap();
    assert!(ana.disabled_at.is_some(), "{users:?}");

    // Enabled again, she can sign in; the revoked token stays revoked.
    assert!(store.enable_user("ana@example.com").await.unwrap());
    assert!(!store.enable_user("ana@example.com").await.unwrap(), "already enabled");
    assert!(store.user_by_email("ana@example.com").await.unwrap().is_some());
    assert!(store.token_owner("token-ana@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn a_new_role_reaches_the_users_session_and_tokens() {
    let (_dir, store) = store().await;
    person(&store, "root@example.com", Role::Admin).await;
    person(&store, "kim@example.com", Role::Admin).await;
    let service =
        store.add_token("zendesk-bridge", Role::Admin, None, "token-service", Utc::now()).await.unwrap();

    let kim = store.set_user_role("kim@example.com", Role::KnowledgeManager).await.unwrap();
    assert_eq!(kim.role, Role::KnowledgeManager);
    let session = store.session("session-kim@example.com", Utc::now()).await.unwrap().unwrap();
    assert_eq!(session.user.role, Role::KnowledgeManager);
    assert_eq!(
        store.token_owner("token-kim@example.com").await.unwrap().unwrap().role,
        Role::KnowledgeManager
    );
    let listed = store.tokens().await.unwrap();
    let kims = listed.iter().find(|t| t.name == "kim@example.com").unwrap();
    assert_eq!(kims.role, Role::KnowledgeManager, "{listed:?}");
    // a service token keeps the role it was issued with
    assert_eq!(listed.iter().find(|t| t.id == service).unwrap().role, Role::Admin);
    assert_eq!(store.token_owner("token-service").await.unwrap().unwrap().role, Role::Admin);
}

#[tokio::test]
async fn the_last_admin_who_can_sign_in_is_neither_demoted_nor_disabled() {
    let (_dir, store) = store().await;
    person(&store, "root@example.com", Role::Admin).await;
    person(&store, "ana@example.com", Role::Agent).await;

    for refused in [
        store.set_user_role("root@example.com", Role::Agent).await.map(|_| ()),
        store.disable_user("root@example.com", Utc::now()).await.map(|_| ()),
    ] {
        match refused {
            Err(StoreError::Conflict(m)) => assert!(m.contains("last admin"), "{m}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    // nothing changed
    assert_eq!(store.user_by_email("root@example.com").await.unwrap().unwrap().0.role, Role::Admin);
    assert!(signed_in(&store, "root@example.com").await);

    // With a second admin, the first may go; changes to non-admins never need one.
    store.set_user_role("ana@example.com", Role::Admin).await.unwrap();
    assert!(store.disable_user("root@example.com", Utc::now()).await.unwrap());
    store.set_user_role("ana@example.com", Role::Admin).await.unwrap();
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_unknown_emails_are_not_found() {
    let (_dir, store) = store().await;
    person(&store, "ana@example.com", Role::Agent).await;
    store.set_password("ana@example.com", "new-hash").await.unwrap();
    assert!(!signed_in(&store, "ana@example.com").await);
    assert_eq!(store.user_by_email("ana@example.com").await.unwrap().unwrap().1, "new-hash");
    assert!(store.token_owner("token-ana@example.com").await.unwrap().is_some(), "tokens are separate");

    let missing = "nobody@example.com";
    assert!(matches!(store.set_password(missing, "h").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.set_user_role(missing, Role::Agent).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.disable_user(missing, Utc::now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.enable_user(missing).await, Err(StoreError::NotFound(_))));
}
