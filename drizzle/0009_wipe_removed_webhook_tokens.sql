-- Custom SQL migration file, put your code below! --
-- Removing a webhook wipes its token since issue 8 (services/webhooks.ts); rows removed before that still hold theirs.
UPDATE `webhooks` SET `token` = '' WHERE `state` = 'removed';
