/*
 * mail/templates — every email latchkey sends, in English and German, as data: one
 * entry per template and language (syntax in mail/internal.h). The German follows
 * the console's wording ("Verwaltungskonsole", "Benutzer und Rollen") and addresses
 * the reader with "Sie". The HTML is inline-styled (mail clients drop <style> and
 * external sheets), one centred card, no images.
 */
#include "mail/internal.h"

/* ---- the HTML building blocks ------------------------------------------------------ */

#define FONT "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
#define H1 "<h1 style=\"margin:0 0 20px;font-size:20px;line-height:1.3;font-weight:600;color:#111827;\">"
#define P "<p style=\"margin:0 0 16px;\">"
#define SMALL "<p style=\"margin:0 0 16px;font-size:13px;color:#6b7280;\">"
#define A_STYLE "style=\"color:#1d4ed8;\""
#define BUTTON(label)                                                                                   \
    "<p style=\"margin:24px 0;\"><a href=\"{link}\" style=\"display:inline-block;padding:11px 22px;"    \
    "background:#1d4ed8;border-radius:4px;color:#ffffff;font-weight:600;text-decoration:none;\">" label \
    "</a></p>\n"
#define LINK_AS_TEXT(intro)                                                                          \
    "<p style=\"margin:0 0 16px;font-size:13px;color:#6b7280;\">" intro "<br>"                    \
    "<a href=\"{link}\" style=\"color:#1d4ed8;word-break:break-all;\">{link}</a></p>\n"
#define QUOTE                                                                                        \
    "<blockquote style=\"margin:0 0 20px;padding:10px 16px;border-left:3px solid #cbd2d9;"          \
    "background:#f8fafc;color:#374151;\">{message}</blockquote>\n"
#define CONSOLE_LINK "<a href=\"{console}\" " A_STYLE ">{console}</a>"

#define LAYOUT(footer)                                                                                     \
    "<!DOCTYPE html>\n"                                                                                    \
    "<html lang=\"{lang}\">\n"                                                                             \
    "<head>\n"                                                                                             \
    "<meta charset=\"UTF-8\">\n"                                                                           \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                           \
    "<title>{subject}</title>\n"                                                                           \
    "</head>\n"                                                                                            \
    "<body style=\"margin:0;padding:0;background:#f3f4f6;\">\n"                                           \
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "        \
    "style=\"background:#f3f4f6;\">\n"                                                                     \
    "<tr><td align=\"center\" style=\"padding:32px 12px;\">\n"                                             \
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "        \
    "style=\"max-width:560px;background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;" FONT          \
    "font-size:15px;line-height:1.55;color:#1f2937;\">\n"                                                  \
    "<tr><td style=\"padding:18px 28px;border-bottom:1px solid #e5e7eb;font-size:17px;font-weight:700;"   \
    "letter-spacing:0.02em;color:#111827;\">latchkey</td></tr>\n"                                         \
    "<tr><td style=\"padding:28px;\">\n"                                                                   \
    "{body}"                                                                                               \
    "</td></tr>\n"                                                                                         \
    "<tr><td style=\"padding:16px 28px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.5;"      \
    "color:#6b7280;\">" footer "</td></tr>\n"                                                              \
    "</table>\n"                                                                                           \
    "</td></tr>\n"                                                                                         \
    "</table>\n"                                                                                           \
    "</body>\n"                                                                                            \
    "</html>\n"

/* ---- English ----------------------------------------------------------------------- */

#define EN_HELLO "{?name}Hello {name},{/}{!name}Hello,{/}"
#define EN_ONCE "The link works only once{?link_expires} and expires on {link_expires}{/}."
#define EN_LINK_AS_TEXT LINK_AS_TEXT("If the button does not work, copy this link into your browser:")
#define EN_CHECK_ADMINS_TEXT                                                                     \
    "If you did not expect this change, check the administrators in the latchkey console"        \
    "{?console}:\n\n{console}\n{/}{!console}.\n{/}"
#define EN_CHECK_ADMINS_HTML                                                                     \
    P "If you did not expect this change, check the administrators in the latchkey console"      \
      "{?console} at " CONSOLE_LINK "{/}.</p>\n"

static const lk_mail_template en_invitation = {
    .subject = "Welcome to latchkey",
    .text = EN_HELLO "\n\n"
            "{?actor}{actor} has invited you to latchkey.{/}{!actor}You have been invited to latchkey.{/}\n\n"
            "{?message}{?actor}{actor} writes:{/}{!actor}Your administrator writes:{/}\n\n"
            "{message}\n\n{/}"
            "To get started, set your password with this link:\n\n"
            "{link}\n\n"
            EN_ONCE "\n"
            "{?console}\nOnce your password is set, you can sign in at {console}\n{/}",
    .html = H1 "Welcome to latchkey</h1>\n"
            P EN_HELLO "</p>\n"
            P "{?actor}<strong>{actor}</strong> has invited you to latchkey.{/}"
              "{!actor}You have been invited to latchkey.{/}</p>\n"
            "{?message}" P "{?actor}{actor} writes:{/}{!actor}Your administrator writes:{/}</p>\n" QUOTE "{/}"
            P "To get started, set your password:</p>\n"
            BUTTON("Set password")
            SMALL EN_ONCE "</p>\n"
            EN_LINK_AS_TEXT
            "{?console}" P "Once your password is set, you can sign in at " CONSOLE_LINK ".</p>\n{/}",
};

static const lk_mail_template en_password_reset = {
    .subject = "Reset your latchkey password",
    .text = EN_HELLO "\n\n"
            "{?actor}{actor} has asked to reset the password of your latchkey account.{/}"
            "{!actor}We received a request to reset the password of your latchkey account.{/}\n\n"
            "To choose a new password, open this link:\n\n"
            "{link}\n\n"
            EN_ONCE "\n\n"
            "If you did not ask for this, ignore this email: your password stays as it is.\n",
    .html = H1 "Reset your password</h1>\n"
            P EN_HELLO "</p>\n"
            P "{?actor}<strong>{actor}</strong> has asked to reset the password of your latchkey account.{/}"
              "{!actor}We received a request to reset the password of your latchkey account.{/}</p>\n"
            P "To choose a new password, open this link:</p>\n"
            BUTTON("Choose a new password")
            SMALL EN_ONCE "</p>\n"
            EN_LINK_AS_TEXT
            P "If you did not ask for this, ignore this email: your password stays as it is.</p>\n",
};

static const lk_mail_template en_expiry_user = {
    .subject = "Your latchkey access ends {in_days}",
    .text = EN_HELLO "\n\n"
            "Your access to latchkey ends on {expires_at} ({in_days}).\n\n"
            "If you still need it, please ask an administrator to extend your access.\n",
    .html = H1 "Your access ends soon</h1>\n"
            P EN_HELLO "</p>\n"
            P "Your access to latchkey ends on <strong>{expires_at}</strong> ({in_days}).</p>\n"
            P "If you still need it, please ask an administrator to extend your access.</p>\n",
};

static const lk_mail_template en_expiry_admin = {
    .subject = "latchkey access of {user} ends {in_days}",
    .text = EN_HELLO "\n\n"
            "The latchkey access of {user} ends on {expires_at} ({in_days}).\n\n"
            "If the access is still needed, you can extend it in the latchkey console under Users & Roles"
            "{?console}:\n\n{console}\n{/}{!console}.\n{/}",
    .html = H1 "Access ends soon</h1>\n"
            P EN_HELLO "</p>\n"
            P "The latchkey access of <strong>{user}</strong> ends on <strong>{expires_at}</strong> "
              "({in_days}).</p>\n"
            P "If the access is still needed, you can extend it in the latchkey console under "
              "Users &amp; Roles{?console} at " CONSOLE_LINK "{/}.</p>\n",
};

static const lk_mail_template en_admin_added = {
    .subject = "{user} is now a latchkey administrator",
    .text = EN_HELLO "\n\n"
            "{user} was made an administrator of latchkey{?actor} by {actor}{/}.\n\n"
            EN_CHECK_ADMINS_TEXT,
    .html = H1 "New administrator</h1>\n"
            P EN_HELLO "</p>\n"
            P "<strong>{user}</strong> was made an administrator of latchkey{?actor} by {actor}{/}.</p>\n"
            EN_CHECK_ADMINS_HTML,
};

static const lk_mail_template en_admin_removed = {
    .subject = "{user} is no longer a latchkey administrator",
    .text = EN_HELLO "\n\n"
            "{user} is no longer an administrator of latchkey.{?actor} The change was made by {actor}.{/}\n\n"
            EN_CHECK_ADMINS_TEXT,
    .html = H1 "Administrator removed</h1>\n"
            P EN_HELLO "</p>\n"
            P "<strong>{user}</strong> is no longer an administrator of latchkey."
              "{?actor} The change was made by {actor}.{/}</p>\n"
            EN_CHECK_ADMINS_HTML,
};

/* to the old address of a changed email: no link, only where to turn */
static const lk_mail_template en_email_changed = {
    .subject = "Your latchkey email address was changed",
    .text = EN_HELLO "\n\n"
            "The email address of your latchkey account was changed from this address to {user}."
            "{?actor} The change was made by {actor}.{/}\n\n"
            "From now on, latchkey writes to the new address only, and password resets go there.\n\n"
            "If you did not expect this change, tell your latchkey administrator at once.\n",
    .html = H1 "Email address changed</h1>\n"
            P EN_HELLO "</p>\n"
            P "The email address of your latchkey account was changed from this address to "
              "<strong>{user}</strong>.{?actor} The change was made by {actor}.{/}</p>\n"
            P "From now on, latchkey writes to the new address only, and password resets go there.</p>\n"
            P "If you did not expect this change, tell your latchkey administrator at once.</p>\n",
};

/* ---- German ------------------------------------------------------------------------
 * The first sentence after the greeting starts with a name or with "Sie"/"Ihr", so
 * that it is capitalised correctly after the comma. */

#define DE_HELLO "{?name}Hallo {name},{/}{!name}Guten Tag,{/}"
#define DE_ONCE "Der Link kann nur einmal verwendet werden{?link_expires} und ist bis {link_expires} gültig{/}."
#define DE_LINK_AS_TEXT \
    LINK_AS_TEXT("Falls die Schaltfläche nicht funktioniert, kopieren Sie diesen Link in Ihren Browser:")
#define DE_CHECK_ADMINS_TEXT                                                                              \
    "Falls Sie diese Änderung nicht erwartet haben, prüfen Sie die Administratoren in der Verwaltungskonsole" \
    "{?console}:\n\n{console}\n{/}{!console}.\n{/}"
#define DE_CHECK_ADMINS_HTML                                                                              \
    P "Falls Sie diese Änderung nicht erwartet haben, prüfen Sie die Administratoren in der "             \
      "Verwaltungskonsole{?console} unter " CONSOLE_LINK "{/}.</p>\n"

static const lk_mail_template de_invitation = {
    .subject = "Willkommen bei latchkey",
    .text = DE_HELLO "\n\n"
            "{?actor}{actor} hat Sie zu latchkey eingeladen.{/}{!actor}Sie wurden zu latchkey eingeladen.{/}\n\n"
            "{?message}{?actor}{actor} schreibt:{/}{!actor}Ihr Administrator schreibt:{/}\n\n"
            "{message}\n\n{/}"
            "Legen Sie über diesen Link Ihr Passwort fest, um loszulegen:\n\n"
            "{link}\n\n"
            DE_ONCE "\n"
            "{?console}\nSobald Ihr Passwort festgelegt ist, können Sie sich hier anmelden: {console}\n{/}",
    .html = H1 "Willkommen bei latchkey</h1>\n"
            P DE_HELLO "</p>\n"
            P "{?actor}<strong>{actor}</strong> hat Sie zu latchkey eingeladen.{/}"
              "{!actor}Sie wurden zu latchkey eingeladen.{/}</p>\n"
            "{?message}" P "{?actor}{actor} schreibt:{/}{!actor}Ihr Administrator schreibt:{/}</p>\n" QUOTE "{/}"
            P "Legen Sie Ihr Passwort fest, um loszulegen:</p>\n"
            BUTTON("Passwort festlegen")
            SMALL DE_ONCE "</p>\n"
            DE_LINK_AS_TEXT
            "{?console}" P "Sobald Ihr Passwort festgelegt ist, können Sie sich unter " CONSOLE_LINK
              " anmelden.</p>\n{/}",
};

static const lk_mail_template de_password_reset = {
    .subject = "Passwort für latchkey zurücksetzen",
    .text = DE_HELLO "\n\n"
            "{?actor}{actor} hat das Zurücksetzen des Passworts für Ihr latchkey-Konto angefordert.{/}"
            "{!actor}Sie erhalten diese E-Mail, weil das Zurücksetzen des Passworts für Ihr latchkey-Konto "
            "angefordert wurde.{/}\n\n"
            "Über diesen Link legen Sie ein neues Passwort fest:\n\n"
            "{link}\n\n"
            DE_ONCE "\n\n"
            "Falls Sie das nicht angefordert haben, ignorieren Sie diese E-Mail. Ihr Passwort bleibt dann "
            "unverändert.\n",
    .html = H1 "Passwort zurücksetzen</h1>\n"
            P DE_HELLO "</p>\n"
            P "{?actor}<strong>{actor}</strong> hat das Zurücksetzen des Passworts für Ihr latchkey-Konto "
              "angefordert.{/}"
              "{!actor}Sie erhalten diese E-Mail, weil das Zurücksetzen des Passworts für Ihr "
              "latchkey-Konto angefordert wurde.{/}</p>\n"
            P "Über diesen Link legen Sie ein neues Passwort fest:</p>\n"
            BUTTON("Neues Passwort festlegen")
            SMALL DE_ONCE "</p>\n"
            DE_LINK_AS_TEXT
            P "Falls Sie das nicht angefordert haben, ignorieren Sie diese E-Mail. Ihr Passwort bleibt dann "
              "unverändert.</p>\n",
};

static const lk_mail_template de_expiry_user = {
    .subject = "Ihr Zugang zu latchkey endet {in_days}",
    .text = DE_HELLO "\n\n"
            "Ihr Zugang zu latchkey endet am {expires_at} ({in_days}).\n\n"
            "Wenn Sie latchkey weiterhin benötigen, bitten Sie einen Administrator, Ihren Zugang zu "
            "verlängern.\n",
    .html = H1 "Ihr Zugang endet bald</h1>\n"
            P DE_HELLO "</p>\n"
            P "Ihr Zugang zu latchkey endet am <strong>{expires_at}</strong> ({in_days}).</p>\n"
            P "Wenn Sie latchkey weiterhin benötigen, bitten Sie einen Administrator, Ihren Zugang zu "
              "verlängern.</p>\n",
};

static const lk_mail_template de_expiry_admin = {
    .subject = "Zugang von {user} zu latchkey endet {in_days}",
    .text = DE_HELLO "\n\n"
            "{user} hat nur noch bis {expires_at} Zugang zu latchkey ({in_days}).\n\n"
            "Falls der Zugang weiterhin benötigt wird, können Sie ihn in der Verwaltungskonsole unter "
            "„Benutzer und Rollen“ verlängern{?console}:\n\n{console}\n{/}{!console}.\n{/}",
    .html = H1 "Zugang endet bald</h1>\n"
            P DE_HELLO "</p>\n"
            P "<strong>{user}</strong> hat nur noch bis <strong>{expires_at}</strong> Zugang zu latchkey "
              "({in_days}).</p>\n"
            P "Falls der Zugang weiterhin benötigt wird, können Sie ihn in der Verwaltungskonsole unter "
              "„Benutzer und Rollen“ verlängern{?console}: " CONSOLE_LINK "{/}.</p>\n",
};

static const lk_mail_template de_admin_added = {
    .subject = "{user} ist jetzt Administrator von latchkey",
    .text = DE_HELLO "\n\n"
            "{user} wurde{?actor} von {actor}{/} zum Administrator von latchkey ernannt.\n\n"
            DE_CHECK_ADMINS_TEXT,
    .html = H1 "Neuer Administrator</h1>\n"
            P DE_HELLO "</p>\n"
            P "<strong>{user}</strong> wurde{?actor} von {actor}{/} zum Administrator von latchkey "
              "ernannt.</p>\n"
            DE_CHECK_ADMINS_HTML,
};

static const lk_mail_template de_admin_removed = {
    .subject = "{user} ist nicht mehr Administrator von latchkey",
    .text = DE_HELLO "\n\n"
            "{user} ist nicht mehr Administrator von latchkey.{?actor} Die Änderung hat {actor} "
            "vorgenommen.{/}\n\n"
            DE_CHECK_ADMINS_TEXT,
    .html = H1 "Administrator entfernt</h1>\n"
            P DE_HELLO "</p>\n"
            P "<strong>{user}</strong> ist nicht mehr Administrator von latchkey."
              "{?actor} Die Änderung hat {actor} vorgenommen.{/}</p>\n"
            DE_CHECK_ADMINS_HTML,
};

static const lk_mail_template de_email_changed = {
    .subject = "Ihre E-Mail-Adresse bei latchkey wurde geändert",
    .text = DE_HELLO "\n\n"
            "Die E-Mail-Adresse Ihres latchkey-Kontos wurde von dieser Adresse auf {user} geändert."
            "{?actor} Die Änderung hat {actor} vorgenommen.{/}\n\n"
            "Ab jetzt schreibt latchkey nur noch an die neue Adresse, auch Links zum Zurücksetzen des "
            "Passworts gehen dorthin.\n\n"
            "Wenn Sie diese Änderung nicht erwartet haben, wenden Sie sich sofort an Ihre "
            "latchkey-Administration.\n",
    .html = H1 "E-Mail-Adresse geändert</h1>\n"
            P DE_HELLO "</p>\n"
            P "Die E-Mail-Adresse Ihres latchkey-Kontos wurde von dieser Adresse auf "
              "<strong>{user}</strong> geändert.{?actor} Die Änderung hat {actor} vorgenommen.{/}</p>\n"
            P "Ab jetzt schreibt latchkey nur noch an die neue Adresse, auch Links zum Zurücksetzen des "
              "Passworts gehen dorthin.</p>\n"
            P "Wenn Sie diese Änderung nicht erwartet haben, wenden Sie sich sofort an Ihre "
              "latchkey-Administration.</p>\n",
};

/* ---- the tables ---------------------------------------------------------------------- */

#define T(en, de) {[LK_LANG_EN] = &en, [LK_LANG_DE] = &de}

const lk_mail_template *const lk_mail_templates[LK_TPL_COUNT][LK_LANG_COUNT] = {
    [LK_TPL_INVITATION] = T(en_invitation, de_invitation),
    [LK_TPL_PASSWORD_RESET] = T(en_password_reset, de_password_reset),
    [LK_TPL_EXPIRY_USER] = T(en_expiry_user, de_expiry_user),
    [LK_TPL_EXPIRY_ADMIN] = T(en_expiry_admin, de_expiry_admin),
    [LK_TPL_ADMIN_ADDED] = T(en_admin_added, de_admin_added),
    [LK_TPL_ADMIN_REMOVED] = T(en_admin_removed, de_admin_removed),
    [LK_TPL_EMAIL_CHANGED] = T(en_email_changed, de_email_changed),
};

const lk_mail_locale lk_mail_locales[LK_LANG_COUNT] = {
    [LK_LANG_EN] = {
        .code = "en",
        .layout = LAYOUT("This is an automated message from latchkey{?console} (" CONSOLE_LINK "){/}. "
                         "Please do not reply to it."),
        .text_footer = "\n-- \nThis is an automated message from latchkey{?console} ({console}){/}. "
                       "Please do not reply to it.\n",
        .months = {"January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December"},
        .date_format = "%d %s %d at %02d:%02d UTC",
        .today = "today",
        .in_one_day = "in 1 day",
        .in_n_days = "in %d days",
    },
    [LK_LANG_DE] = {
        .code = "de",
        .layout = LAYOUT("Dies ist eine automatisch versendete Nachricht von latchkey"
                         "{?console} (" CONSOLE_LINK "){/}. Bitte antworten Sie nicht auf diese E-Mail."),
        .text_footer = "\n-- \nDies ist eine automatisch versendete Nachricht von latchkey"
                       "{?console} ({console}){/}. Bitte antworten Sie nicht auf diese E-Mail.\n",
        .months = {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                   "Oktober", "November", "Dezember"},
        .date_format = "%d. %s %d um %02d:%02d UTC",
        .today = "heute",
        .in_one_day = "in 1 Tag",
        .in_n_days = "in %d Tagen",
    },
};
