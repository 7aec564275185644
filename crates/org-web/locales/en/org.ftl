login-title = Sign in
login-failed = Wrong user name or password.
login-locked = Too many failed attempts: the account is locked for a while.
totp-title = Second factor
totp-prompt = Enter the 6-digit code from your authenticator app.
totp-invalid = That code is not valid. Check the time on your device and try again.
verify = Verify
enrol-title = Set up the second factor
enrol-intro = Your role requires a second factor. Scan this code with an authenticator app (for example on your phone), then enter the 6-digit code it shows.
enrol-manual = Or enter this key by hand:
enrol-confirm = Confirm
setup-title = Create the first administrator
setup-intro = This one-time link creates the first administrator of this isms. The link stops working once the account exists.
setup-create = Create administrator
setup-invalid = This setup link is not valid any more.

account-title = My account
account-preferences = Preferences
account-sessions = Signed-in sessions
locale-browser = As the browser says
session-current = This session
col-signed-in = Signed in
col-last-seen = Last seen
col-client = Client
col-actions = Actions

org-title = Organisation
org-new-company = Add a group company
org-new-department = Add a department
holding-company = Holding company
col-code = Code
col-company = Company
col-departments = Departments

people-title = People
people-count = { $count } people
people-search-placeholder = Name, e-mail or employee number
all-companies = All companies
all-statuses = All statuses
status-active = Active
status-on_leave = On leave
status-left = Left
col-employee-number = Employee no.
col-name = Name
col-email = E-mail
col-department = Department
col-manager = Manager
col-status = Status
person-title = Person
person-new-title = Add a person
person-edit-title = Edit person

import-title = Import people from CSV
import-intro = The first line names the columns. A person is matched by employee number: new numbers are added, known ones updated. If any line has a problem, nothing is imported.
import-file = CSV file
import-run = Import
import-running = Importing…
import-no-file = Choose a CSV file first.
import-done = Imported: { $created } added, { $updated } updated.
import-failed = Nothing was imported: the file has { $count } problem(s).
col-line = Line
col-field = Field
col-problem = Problem

users-title = Users
user-title = User
user-new-title = Add a user
user-active = Active
user-disabled = Disabled
user-locked = Locked
user-2fa = Second factor
col-roles = Roles
col-last-login = Last sign-in
reset-password = Set a new password
reset-2fa = Remove second factor
grant-add = Add a role…

tokens-title = API tokens
token-new = Issue a token
token-created = Copy this token now. It is shown only once.
token-revoked = Revoked
col-expires = Expires
col-last-used = Last used

## notifications
nav-notifications = Notifications
notifications-title = Notifications
notifications-hint = What isms told you: reminders, requests for your approval and documents to read. Those with an e-mail status were also sent by e-mail.
notifications-read-all = Mark all read
notifications-none = No notifications.
unread = New
unread-count = { $n } unread
mark-read = Mark read
notification-done = Done
col-when = When
col-notice = Notification
col-mail = E-mail
mail-none = —
mail-pending = Queued
mail-sending = Sending
mail-sent = Sent
mail-failed = Failed
mail-footer = Sent by isms, the information security management system. Replies to this address are not read.
notice-asset-review-due = The review of the information asset "{ $asset }" is due on { $due }
users-search = Search by username or display name
n-users = { $n } { $n ->
    [one] account
   *[other] accounts
}
