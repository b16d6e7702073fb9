CREATE TABLE "task_run_output" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" integer NOT NULL,
	"stream" text NOT NULL,
	"pos" bigint NOT NULL,
	"file_offset" bigint NOT NULL,
	"length" integer NOT NULL,
	"bytes" integer NOT NULL,
	"head" boolean NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"task_id" integer NOT NULL,
	"attempt" integer NOT NULL,
	"worker_id" text NOT NULL,
	"agent_slug" text,
	"model" text,
	"command" jsonb,
	"pid" integer,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"exit_code" integer,
	"signal" text,
	"duration_ms" bigint,
	"ai_minutes" integer,
	"outcome" text,
	"reason" text,
	"reason_code" text,
	"reason_params" jsonb,
	"log_path" text,
	"err_log_path" text,
	"timeout_minutes" integer,
	"stdout_bytes" bigint DEFAULT 0 NOT NULL,
	"stderr_bytes" bigint DEFAULT 0 NOT NULL,
	"stdout_total" bigint,
	"stderr_total" bigint,
	"output_bytes" bigint DEFAULT 0 NOT NULL,
	"kept_bytes" bigint DEFAULT 0 NOT NULL,
	"dropped_bytes" bigint DEFAULT 0 NOT NULL,
	"output_pruned_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "run_timeout_minutes" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "run_timeout_minutes" integer;--> statement-breakpoint
ALTER TABLE "worker_heartbeats" ADD COLUMN "runtimes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "task_run_output" ADD CONSTRAINT "task_run_output_run_id_task_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."task_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_runs" ADD CONSTRAINT "task_runs_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_run_output_run_id_pos_index" ON "task_run_output" USING btree ("run_id","pos");--> statement-breakpoint
CREATE UNIQUE INDEX "task_runs_task_id_attempt_index" ON "task_runs" USING btree ("task_id","attempt");--> statement-breakpoint
CREATE INDEX "task_runs_ended_idx" ON "task_runs" USING btree ("ended_at") WHERE output_pruned_at is null;