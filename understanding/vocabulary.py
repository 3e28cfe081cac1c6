"""The words requests use, in one place: the rule parser reads them, and the OpenAI
prompt lists them, so both paths understand the same request the same way."""

from __future__ import annotations

from workflows.environments import ENVIRONMENT_WORDS
from workflows.spec import Auth, Database, DeployTarget, FieldType

MAX_REQUEST_CHARS = 4000


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DATABASES = {
    "postgresql": Database.postgresql,
    "postgres": Database.postgresql,
    "postgre": Database.postgresql,
    "pg": Database.postgresql,
    "psql": Database.postgresql,
    "rds": Database.postgresql,
    "mysql": Database.mysql,
    "mariadb": Database.mysql,
    "maria": Database.mysql,
    "sqlite": Database.sqlite,
    "sqlite3": Database.sqlite,
    "mongodb": Database.mongodb,
    "mongo": Database.mongodb,
    "dynamodb": Database.dynamodb,
    "dynamo": Database.dynamodb,
}
# Databases people name that the spec has no place for: a question, never a swap.
OTHER_DATABASES = {
    "mssql": "SQL Server",
    "sqlserver": "SQL Server",
    "oracle": "Oracle",
    "cassandra": "Cassandra",
    "redis": "Redis",
    "firestore": "Firestore",
    "firebase": "Firebase",
    "cockroachdb": "CockroachDB",
    "couchdb": "CouchDB",
    "neo4j": "Neo4j",
    "elasticsearch": "Elasticsearch",
    "supabase": "Supabase",
}

# Frameworks and languages: FastAPI (Python) is what Shipmate generates; any other is
# named back in a question, never quietly replaced.
BUILT_STACKS = _words("fastapi python python3 pydantic sqlalchemy")
OTHER_STACKS = {
    "nestjs": "NestJS",
    "nest": "NestJS",
    "express": "Express",
    "expressjs": "Express",
    "node": "Node.js",
    "nodejs": "Node.js",
    "typescript": "TypeScript",
    "javascript": "JavaScript",
    "django": "Django",
    "flask": "Flask",
    "spring": "Spring",
    "springboot": "Spring Boot",
    "java": "Java",
    "kotlin": "Kotlin",
    "rails": "Rails",
    "ruby": "Ruby",
    "laravel": "Laravel",
    "php": "PHP",
    "golang": "Go",
    "gin": "Go (Gin)",
    "rust": "Rust",
    "actix": "Rust (Actix)",
    "axum": "Rust (Axum)",
    "dotnet": ".NET",
    "aspnet": "ASP.NET",
    "csharp": "C#",
    "phoenix": "Phoenix",
    "elixir": "Elixir",
    "fastify": "Fastify",
    "koa": "Koa",
    "deno": "Deno",
    "bun": "Bun",
    "hasura": "Hasura",
    "prisma": "Prisma",
}

AUTH_WORDS = {
    "jwt": Auth.jwt,
    "jwts": Auth.jwt,
    "token": Auth.jwt,
    "tokens": Auth.jwt,
    "bearer": Auth.jwt,
    "secure": Auth.jwt,
    "secured": Auth.jwt,
    "login": Auth.jwt,
    "logins": Auth.jwt,
    "signin": Auth.jwt,
    "signup": Auth.jwt,
    "password": Auth.jwt,
    "passwords": Auth.jwt,
    "auth": Auth.jwt,
    "authentication": Auth.jwt,
    "authenticated": Auth.jwt,
    "authorization": Auth.jwt,
    "authorisation": Auth.jwt,
    "oauth": Auth.oidc,
    "oauth2": Auth.oidc,
    "sso": Auth.oidc,
    "oidc": Auth.oidc,
    "openid": Auth.oidc,
}
# Sign-in words read by understanding/sign_in_words.py that no dictionary has.
SIGN_IN_NAMES = frozenset(
    "apikey apikeys saml mtls ldap otp otps passkey passkeys webauthn sso idp idps oidc "
    "openid okta auth0 keycloak cognito entra onelogin fusionauth zitadel authentik "
    "jumpcloud github gitlab".split()
)

TARGET_WORDS = {
    "lambda": DeployTarget.aws_lambda,
    "serverless": DeployTarget.aws_lambda,
    "ecs": DeployTarget.aws_ecs,
    "fargate": DeployTarget.aws_ecs,
    "locally": DeployTarget.local,
    "local": DeployTarget.local,
    "laptop": DeployTarget.local,
}
OTHER_TARGETS = {
    "kubernetes": "Kubernetes",
    "k8s": "Kubernetes",
    "eks": "EKS",
    "gke": "GKE",
    "aks": "AKS",
    "heroku": "Heroku",
    "vercel": "Vercel",
    "netlify": "Netlify",
    "gcp": "Google Cloud",
    "azure": "Azure",
    "fly": "Fly.io",
    "render": "Render",
    "ec2": "EC2",
    "beanstalk": "Elastic Beanstalk",
}

TYPE_WORDS = {
    "str": FieldType.str,
    "string": FieldType.str,
    "varchar": FieldType.str,
    "char": FieldType.str,
    "url": FieldType.str,
    "uri": FieldType.str,
    "text": FieldType.text,
    "longtext": FieldType.text,
    "int": FieldType.int,
    "integer": FieldType.int,
    "bigint": FieldType.int,
    "smallint": FieldType.int,
    "float": FieldType.float,
    "double": FieldType.float,
    "real": FieldType.float,
    "decimal": FieldType.decimal,
    "numeric": FieldType.decimal,
    "money": FieldType.decimal,
    "bool": FieldType.bool,
    "boolean": FieldType.bool,
    "flag": FieldType.bool,
    "date": FieldType.date,
    "datetime": FieldType.datetime,
    "timestamp": FieldType.datetime,
    "timestamptz": FieldType.datetime,
    "uuid": FieldType.uuid,
    "guid": FieldType.uuid,
    "email": FieldType.email,
}

# 'ssn (sensitive)', 'phone (pii)': how a field is protected (workflows/privacy.py)
MODIFIERS = _words("unique optional required nullable mandatory distinct sensitive pii")

ENVIRONMENTS = ENVIRONMENT_WORDS  # one vocabulary, shared with the thread commands

API_WORDS = _words("rest restful graphql grpc")

# Words that describe the service or the asking, never a thing it manages. A word here
# is never reported as unused; a word nowhere is.
FILLER = (
    _words("""
        a an the build create make write scaffold generate new me please pls plz simple
        small basic tiny quick quickly minimal little spin spinning set setup bootstrap
        stand put together rest restful graphql grpc api apis service services
        microservice microservices backend back end app application system systems crud
        management manager managing manage manages managed for with and or to of on in it
        then also deploy deploys deployed deploying deployment ship shipped
        roll out auth jwt oauth oauth2 login database databases db store stored storing
        storage persist persisted persistence fields field entities entity model models
        resource resources object objects thing things data record records
        that which some our my we need needs needed want wants wanted would like i us can
        could should lets let s endpoint endpoints server up hey hi hello shipmate bot
        using use uses used via by is are be been being have has had having do does
        all list lists you your they them their its this these those there here where what
        how why when who whom whose thanks thank thx ty cheers team folks guys everyone
        ok okay sure yes yeah yep great cool nice awesome just really very also too as
        well so then than at from into onto about around each every any one two three
        kind sort type types called named will shall go ready asap today tomorrow
        now soon later first next after before behind backed powered running runs run
        hosted host hosting live lives living including include includes included
        containing contains contain plus along alongside together both either neither
        not no nor but if else get gets keep keeps keeping track tracking tracker
        handle handles handling supports supported allow allows allowed let
        lets which whatever something stuff etc via per own like such e g ie eg
        public internal small medium large
        env envs environment environments stage stages
        docker container containers aws ecs fargate lambda cloud
        field fields attribute attributes property properties
        many multiple several written built made coded implemented d ll m re ve t
        collection platform saas whip whipping u ur w
        belong belongs belonging reference references refer refers linked owned
        expose exposes exposing provide provides providing offer offers
        hold holds save saves
    """)
    | set(DATABASES)
    | set(ENVIRONMENTS)
    | set(TYPE_WORDS)
    | set(MODIFIERS)
    | BUILT_STACKS
)

# Words that configure the service itself: an item naming one is never a field.
CONTROL = (
    _words("""
        graphql grpc rest restful jwt oauth oauth2 auth authentication api service deploy
        deployed ecs aws lambda fargate fields field entities entity using login roles
        crud sqs events publish emit secure secured sso
    """)
    | set(DATABASES)
    | set(OTHER_DATABASES)
    | set(OTHER_STACKS)
    | set(OTHER_TARGETS)
    | set(ENVIRONMENTS)
)

# Typos of these are corrected before matching ('postgress', 'grapql').
VOCABULARY = sorted(
    set(DATABASES)
    | set(TYPE_WORDS)
    | set(ENVIRONMENTS)
    | _words("graphql deploy entities fields unique optional required service management")
    | _words("postgresql authentication production")
)

IRREGULAR = {
    "movies": "movie",
    "people": "person",
    "children": "child",
    "series": "series",
    "species": "species",
    "news": "news",
    "men": "man",
    "women": "woman",
    "data": "data",
    "feedback": "feedback",
    "inventory": "inventory",
    "analyses": "analysis",
    "statuses": "status",
    "addresses": "address",
    "leaves": "leave",
    "quizzes": "quiz",
}

KNOWN_FIELDS: dict[str, list[tuple[str, FieldType]]] = {
    "Todo": [("title", FieldType.str), ("done", FieldType.bool)],
    "Task": [("title", FieldType.str), ("done", FieldType.bool)],
    "Order": [("customer", FieldType.str), ("total", FieldType.decimal), ("status", FieldType.str)],
    "User": [("email", FieldType.email), ("name", FieldType.str)],
    "Product": [("name", FieldType.str), ("price", FieldType.decimal)],
    "Customer": [("name", FieldType.str), ("email", FieldType.email)],
    "Note": [("title", FieldType.str), ("body", FieldType.text)],
    "Book": [("title", FieldType.str), ("author", FieldType.str)],
    "Invoice": [("number", FieldType.str), ("amount", FieldType.decimal)],
    "Post": [("title", FieldType.str), ("body", FieldType.text)],
    "Ticket": [("title", FieldType.str), ("status", FieldType.str)],
    "Event": [("name", FieldType.str), ("starts_at", FieldType.datetime)],
    "Employee": [("name", FieldType.str), ("email", FieldType.email)],
    "Payment": [("amount", FieldType.decimal), ("currency", FieldType.str)],
    "Comment": [("body", FieldType.text)],
}

# Words the spelling mender leaves as written: every word Shipmate itself reads.
OWN_WORDS = frozenset(
    word
    for words in (
        DATABASES,
        OTHER_DATABASES,
        BUILT_STACKS,
        OTHER_STACKS,
        AUTH_WORDS,
        SIGN_IN_NAMES,
        TARGET_WORDS,
        OTHER_TARGETS,
        TYPE_WORDS,
        MODIFIERS,
        ENVIRONMENTS,
        API_WORDS,
        FILLER,
        CONTROL,
        VOCABULARY,
    )
    for phrase in words
    for word in str(phrase).split()
)
