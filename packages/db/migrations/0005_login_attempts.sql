CREATE TABLE "login_attempts" (
	"user_key" text NOT NULL,
	"client" text NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"refused" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_attempts_user_key_client_pk" PRIMARY KEY("user_key","client")
);
--> statement-breakpoint
CREATE INDEX "login_attempts_updated_at_index" ON "login_attempts" USING btree ("updated_at");