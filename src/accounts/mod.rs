//! Accounts: sign-in (password, TOTP, recovery codes), sessions, API tokens, invitations,
//! first-run setup and the person's own account page.
//!
//! Entry points: [`routes`]; [`signin`] holds the logic shared by the sign-in page and the
//! API so the two cannot drift; [`invite::send_invitation`] is used by admins (staff) and
//! therapists (clients).

pub mod api;
pub mod invite;
pub mod pages;
pub mod password;
pub mod queries;
pub mod signin;
pub mod totp;

use crate::authz::{ANY_ROLE, Access};
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/login", Access::Public, pages::show_login),
        Route::post("/login", Access::Public, pages::sign_in),
        Route::get("/login/mfa", Access::PartialSignIn, pages::show_mfa),
        Route::post("/login/mfa", Access::PartialSignIn, pages::verify_mfa),
        Route::post("/logout", Access::PartialSignIn, pages::sign_out),
        Route::get("/account", ANY_ROLE, pages::show_account),
        Route::post("/account/password", ANY_ROLE, pages::change_password),
        Route::post(
            "/account/sessions/revoke",
            ANY_ROLE,
            pages::sign_out_everywhere,
        ),
        Route::get("/account/mfa", Access::PartialSignIn, pages::show_mfa_setup),
        Route::post("/account/mfa", Access::PartialSignIn, pages::enable_mfa),
        Route::get(
            "/invitations/{token}",
            Access::Public,
            pages::show_invitation,
        ),
        Route::post(
            "/invitations/{token}",
            Access::Public,
            pages::accept_invitation,
        ),
        Route::get("/setup", Access::Public, pages::show_setup),
        Route::post("/setup", Access::Public, pages::create_first_admin),
        Route::post("/api/v1/auth/login", Access::Public, api::login),
        Route::post("/api/v1/auth/logout", ANY_ROLE, api::logout),
        Route::get("/api/v1/me", ANY_ROLE, api::me),
    ]
}
