CREATE TABLE "worker_credentials" (
	"id" serial PRIMARY KEY NOT NULL,
	"worker_id" text NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	"token_hash" text NOT NULL,
	"workspace_ids" integer[],
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "worker_credentials_tokenHash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
DROP INDEX "tasks_queue_idx";--> statement-breakpoint
ALTER TABLE "worker_heartbeats" ADD COLUMN "credential_kind" text DEFAULT 'service' NOT NULL;--> statement-breakpoint
ALTER TABLE "worker_heartbeats" ADD COLUMN "pool_workspace_ids" integer[];--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "dispatch_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "worker_credentials_worker_id_index" ON "worker_credentials" USING btree ("worker_id");--> statement-breakpoint
CREATE INDEX "tasks_workspace_queue_idx" ON "tasks" USING btree ("workspace_id","priority" DESC NULLS LAST,"queued_at","id") WHERE status = 'queued' and archived_at is null;--> statement-breakpoint
CREATE INDEX "tasks_workspace_claimed_idx" ON "tasks" USING btree ("workspace_id","claimed_at") WHERE claimed_at is not null;