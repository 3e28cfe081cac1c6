"""The public table of requests: how people ask, and the spec each must become.

Rows come from the project's own examples, realistic Slack phrasings and the failure
families found by people outside the team (filler words taken for entities, stacks
Shipmate does not build, Entity(field) notation, semicolons, glued types, roles,
gRPC beside REST, names that cannot be used, links between entities). The rule
parser must read at least 90 % of them exactly; the benchmark prints the score, and
the OpenAI path is checked against the same rows.
"""

from __future__ import annotations

from shipmate.settings import Settings
from understanding import understand
from workflows.spec import ServiceSpec


def shape(text: str) -> str:
    """What a reader checks, on one line: name db auth(roles) api target envs | entities,
    or the questions asked instead."""
    result = understand(Settings(openai_api_key=None), [text])
    if result.spec is None:
        return "QUESTION: " + " ".join(result.questions)
    return spec_shape(result.spec)


def spec_shape(spec: ServiceSpec) -> str:
    roles = f"({','.join(spec.roles)})" if spec.roles else ""
    head = " ".join(
        [
            spec.name,
            spec.database.value,
            spec.auth.value + roles,
            "+".join(a.value for a in spec.api),
            spec.deploy.target.value,
            ">".join(spec.deploy.environments) or "-",
        ]
    )
    entities = []
    for entity in spec.entities:
        fields = [
            f"{f.name}:{f.type.value}{'!' if f.unique else ''}{'' if f.required else '?'}"
            + (f"{{{'|'.join(f.choices)}}}" if f.choices else "")
            for f in entity.fields
        ] + [f"{r.name}->{r.target}" for r in entity.relations]
        entities.append(f"{entity.name}({', '.join(fields)})")
    return head + " | " + " ".join(entities)


CASES = [
    (
        "build a todo api",
        "todo-api postgresql none rest local staging | Todo(title:str, done:bool)",
    ),
    (
        "build a REST API for order management with PostgreSQL and JWT",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "user management service: users have email (unique), name and role; admins can delete",
        "user-management-service postgresql jwt(admin,user) rest local staging | User(email:email!, name:str, role:str)",
    ),
    (
        "a products api with graphql, fields name, price (decimal), in_stock bool, deploy to staging then prod on ECS",
        "products-api postgresql none graphql aws-ecs staging>prod | Product(name:str, price:decimal, in_stock:bool)",
    ),
    (
        "an inventory service with entities warehouses, items and suppliers; items have name, quantity and warehouse",
        "inventory-service postgresql none rest local staging | Warehouse(name:str) Item(name:str, quantity:int, warehouse->Warehouse) Supplier(name:str)",
    ),
    (
        "build a blog backend called my-blog: posts have title, body (text), published_at; comments have author and post",
        "my-blog postgresql none rest local staging | Post(title:str, body:text, published_at:datetime) Comment(author:str, post->Post)",
    ),
    (
        "a shop api with roles: admin, clerk and customer. products have name and price",
        "shop-api postgresql jwt(admin,clerk,customer) rest local staging | Product(name:str, price:decimal)",
    ),
    (
        "orders with customer, total (decimal) and status",
        "orders-api postgresql none rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "create a bookstore api using mysql: books have title, isbn (unique), price and published date",
        "bookstore-api mysql none rest local staging | Book(title:str, isbn:str!, price:decimal, published_date:date)",
    ),
    (
        "make a tickets service with sqlite, tickets have title, description, priority int and closed bool",
        "tickets-service sqlite none rest local staging | Ticket(title:str, description:text, priority:int, closed:bool)",
    ),
    (
        "Build an events API with Postgress. events have name, starts_at, ends_at and capacity",
        "events-api postgresql none rest local staging | Event(name:str, starts_at:datetime, ends_at:datetime, capacity:int)",
    ),
    (
        "a customer api in mongodb: customers have name, email unique, phone (optional)",
        "QUESTION: I generate SQL services only, and MongoDB isn't built yet. Shall it use PostgreSQL, MySQL or SQLite?",
    ),
    (
        "we need a grpc api for payments: payments have amount, currency and paid_at, deploy to prod on lambda",
        'QUESTION: I can\'t deploy to AWS Lambda yet. Shall I run it on ECS (Fargate) instead, or on the local Docker engine? Say "on ECS" or "locally". I can\'t make gRPC APIs yet. Shall it be REST or GraphQL?',
    ),
    (
        "scaffold an employee directory service, employees have first name, last name, email (unique) and hired on date",
        "employee-directory-service postgresql none rest local staging | Employee(first_name:str, last_name:str, email:email!, hired_on:date)",
    ),
    (
        "crud api for vehicles: vehicles have plate (unique), make, model year int",
        "vehicles-api postgresql none rest local staging | Vehicle(plate:str!, make:str, model_year:int)",
    ),
    (
        "recipes api with no auth. recipes have title, instructions text, minutes int",
        "recipes-api postgresql none rest local staging | Recipe(title:str, instructions:text, minutes:int)",
    ),
    (
        "a notes api, deploy to dev then staging then production",
        "notes-api postgresql none rest local dev>staging>prod | Note(title:str, body:text)",
    ),
    (
        "i want a projects and tasks api: projects have name; tasks have title, done and project",
        "tasks-api postgresql none rest local staging | Project(name:str) Task(title:str, done:bool, project->Project)",
    ),
    (
        "A GRAPHQL API FOR MOVIES: MOVIES HAVE TITLE, RATING FLOAT AND RELEASED DATE",
        "movies-api postgresql none graphql local staging | Movie(title:str, rating:float, released_date:date)",
    ),
    (
        "a library service with oauth: entities books, members and loans; loans have book, member and due date",
        "library-service postgresql oauth2 rest local staging | Book(title:str, author:str) Member(name:str) Loan(due_date:date, book->Book, member->Member)",
    ),
    (
        "invoices api with dynamodb, invoices have number (unique), amount (decimal), issued date. don't deploy",
        "QUESTION: I generate SQL services only, and DynamoDB isn't built yet. Shall it use PostgreSQL, MySQL or SQLite?",
    ),
    (
        "api for tracking shipments: shipments have tracking_code (unique), carrier and delivered_at (optional)",
        "shipments-api postgresql none rest local staging | Shipment(tracking_code:str!, carrier:str, delivered_at:datetime?)",
    ),
    (
        "a polls api: questions have text and pub_date; choices have question, choice text and votes int",
        "polls-api postgresql none rest local staging | Question(text:text, pub_date:date) Choice(choice:text, votes:int, question->Question)",
    ),
    (
        "hi",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "status?",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "can you help me",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "deploy a todos api to prod or staging",
        "QUESTION: Which environment should this go to first: prod or staging?",
    ),
    (
        "build a pets api with jwt, roles: owner and vet. pets have name, species and birth date",
        "pets-api postgresql jwt(owner,vet) rest local staging | Pet(name:str, species:str, birth_date:date)",
    ),
    (
        "create a devices api, devices have serial uuid, active bool and last seen datetime",
        "devices-api postgresql none rest local staging | Device(serial:uuid, active:bool, last_seen:datetime)",
    ),
    (
        "a weather stations api: stations have name, latitude float, longitude float",
        "weather-stations-api postgresql none rest local staging | Station(name:str, latitude:float, longitude:float)",
    ),
    (
        "make me a contacts service with postgresql and jwt auth. contacts have name, email and phone",
        "contacts-service postgresql jwt rest local staging | Contact(name:str, email:email, phone:str)",
    ),
    (
        "build an api for managing courses with mariadb: courses have title, credits int and active",
        "courses-api mysql none rest local staging | Course(title:str, credits:int, active:bool)",
    ),
    (
        "a feedback api where feedback has message text, score int and email",
        "feedback-api postgresql none rest local staging | Feedback(message:text, score:int, email:email)",
    ),
    (
        "warehouse api deployed locally: warehouses have code (unique) and city",
        "warehouse-api postgresql none rest local staging | Warehouse(code:str!, city:str)",
    ),
    (
        "leaderboard service: players have nickname (unique) and score int; deploy to staging on aws",
        "leaderboard-service postgresql none rest aws-ecs staging | Player(nickname:str!, score:int)",
    ),
    (
        "build an orders service, orders have customer, total (decimal) and status. customers have name and email (unique)",
        "orders-service postgresql none rest local staging | Order(total:decimal, status:str, customer->Customer) Customer(name:str, email:email!)",
    ),
    (
        "please build a simple subscriptions api with stripe_id (unique), plan and renews_at",
        "subscriptions-api postgresql none rest local staging | Subscription(stripe_id:str!, plan:str, renews_at:datetime)",
    ),
    (
        "an authors and books api: authors have name; books have title and author",
        "books-api postgresql none rest local staging | Author(name:str) Book(title:str, author->Author)",
    ),
    (
        "build a todo api; deploy to prod",
        "todo-api postgresql none rest local prod | Todo(title:str, done:bool)",
    ),
    (
        "a messages api with sqllite: messages have sender, body and sent_at",
        "messages-api sqlite none rest local staging | Message(sender:str, body:text, sent_at:datetime)",
    ),
    (
        "a todo list api: tasks hav title and done, deploy to stagin",
        "todo-list-api postgresql none rest local staging | Task(title:str, done:bool)",
    ),
    (
        "build a REST API for order managment with postgress and jwt",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "Spin up a books API backed by MySQL",
        "books-api mysql none rest local staging | Book(title:str, author:str)",
    ),
    (
        "a vehicle fleet API: vehicles (plate, make, model), drivers (name, license_number unique)",
        "vehicle-fleet-api postgresql none rest local staging | Vehicle(plate:str, make:str, model:str) Driver(name:str, license_number:str!)",
    ),
    (
        "api for a library: members (name, email unique), loans (book, member, due (date))",
        "library-api postgresql none rest local staging | Member(name:str, email:email!) Loan(book:str, due:date, member->Member)",
    ),
    (
        "Build a secure REST API for order management using NestJS and PostgreSQL",
        "QUESTION: I generate Python services with FastAPI; NestJS isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "Build a secure REST API for order management using FastAPI and PostgreSQL",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "inventory service with warehouses (code unique, city) and stock items (sku unique, quantity integer, warehouse)",
        "inventory-service postgresql none rest local staging | Warehouse(code:str!, city:str) StockItem(sku:str!, quantity:int, warehouse->Warehouse)",
    ),
    (
        "Book(title, isbn unique, published_on date)",
        "books-api postgresql none rest local staging | Book(title:str, isbn:str!, published_on:date)",
    ),
    (
        "books: title; author; isbn (unique); pages int",
        "books-api postgresql none rest local staging | Book(title:str, author:str, isbn:str!, pages:int)",
    ),
    (
        "a contacts api where each contact has a name, an email and a phone number",
        "contacts-api postgresql none rest local staging | Contact(name:str, email:email, phone_number:str)",
    ),
    (
        "employees have date_of_birth (date), hired_on (date) and salary (decimal)",
        "employees-api postgresql none rest local staging | Employee(date_of_birth:date, hired_on:date, salary:decimal)",
    ),
    (
        "a helpdesk api: tickets have subject, body (text) and status; agents can close tickets",
        "helpdesk-api postgresql jwt(agent) rest local staging | Ticket(subject:str, body:text, status:str)",
    ),
    (
        "clinic api with doctor and receptionist roles: patients have name and date of birth; appointments have patient and starts_at",
        "clinic-api postgresql jwt(doctor,receptionist) rest local staging | Patient(name:str, date_of_birth:date) Appointment(starts_at:datetime, patient->Patient)",
    ),
    (
        "we need a REST and gRPC api for payments: payments have amount and currency",
        "QUESTION: I can't make gRPC APIs yet. Shall it have REST only?",
    ),
    (
        "GraphQL + REST service for events",
        "events-api postgresql none rest+graphql local staging | Event(name:str, starts_at:datetime)",
    ),
    (
        "a calendar api: events have title, from (datetime), to (datetime) and type",
        "calendar-api postgresql none rest local staging | Event(title:str, from:datetime, to:datetime, type:str)",
    ),
    (
        "a school api: classes have name and class; students have name and grade int",
        "QUESTION: Entity name 'Class' is reserved; pick another. Could you correct that?",
    ),
    (
        "build a users api: users have email (unique) and display name",
        "users-api postgresql none rest local staging | User(email:email!, display_name:str)",
    ),
    (
        "an orders api where orders have customer, total (decimal) and status: pending, paid or shipped",
        "orders-api postgresql none rest local staging | Order(customer:str, total:decimal, status:str{pending|paid|shipped})",
    ),
    (
        "tasks have title, priority (low/medium/high) and done",
        "tasks-api postgresql none rest local staging | Task(title:str, priority:str{low|medium|high}, done:bool)",
    ),
    (
        "a bugs api: bugs have title, severity one of minor, major, critical and open bool",
        "bugs-api postgresql none rest local staging | Bug(title:str, severity:str{minor|major|critical}, open:bool)",
    ),
    (
        "a shop api: customers have name; orders belong to customers and have total (decimal)",
        "shop-api postgresql none rest local staging | Customer(name:str) Order(total:decimal, customer->Customer)",
    ),
    (
        "a blog api: an author has many posts; posts have title and body (text)",
        "blog-api postgresql none rest local staging | Author(name:str) Post(title:str, body:text, author->Author)",
    ),
    (
        "a tracker with projects (name) and issues (title, project_id)",
        "projects-api postgresql none rest local staging | Project(name:str) Issue(title:str, project->Project)",
    ),
    (
        "build me a crm backend with contacts, companies and deals",
        "crm-api postgresql none rest local staging | Contact(name:str) Company(name:str) Deal(name:str)",
    ),
    (
        "hey shipmate, can you whip up a quick crud api for recipes? recipes have a title, ingredients (text) and prep time in minutes",
        "recipes-api postgresql none rest local staging | Recipe(title:str, ingredients:text, prep_time_in_minutes:int)",
    ),
    (
        "need an api to track expenses: amount (decimal), category, spent_on date and notes (optional)",
        "expenses-api postgresql none rest local staging | Expense(amount:decimal, category:str, spent_on:date, notes:text?)",
    ),
    (
        "Create a products service in Django with PostgreSQL",
        "QUESTION: I generate Python services with FastAPI; Django isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "could you build an express api for todos",
        "QUESTION: I generate Python services with FastAPI; Express isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "a movies api written in Go",
        "QUESTION: I generate Python services with FastAPI; Go isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "an api with sso login for a team wiki: pages have title and content (text)",
        "wiki-api postgresql oauth2 rest local staging | Page(title:str, content:text)",
    ),
    (
        "a notes api with api key auth",
        "QUESTION: I can protect it with JWT sign-in or OAuth2, or leave it open; API keys aren't built yet. Which shall it be?",
    ),
    (
        "deploy a notes api to kubernetes",
        'QUESTION: I deploy to AWS ECS (Fargate) or the local Docker engine; Kubernetes isn\'t built yet. Where shall it run? Say "on ECS" or "locally".',
    ),
    (
        "build a pets api on mongodb",
        "QUESTION: I generate SQL services only, and MongoDB isn't built yet. Shall it use PostgreSQL, MySQL or SQLite?",
    ),
    (
        "a reservations api: tables have number (unique) and seats int; reservations have table, guest name, party size int and reserved_at",
        "reservations-api postgresql none rest local staging | Table(number:str!, seats:int) Reservation(guest_name:str, party_size:int, reserved_at:datetime, table->Table)",
    ),
    (
        "a fitness api: workouts have name, duration minutes int, calories int and performed_at datetime",
        "fitness-api postgresql none rest local staging | Workout(name:str, duration_minutes:int, calories:int, performed_at:datetime)",
    ),
    (
        "an api for ordеrs with total",
        "QUESTION: 'ordеrs' mixes Latin letters with letters from another alphabet that look the same, so nobody could type that name again. Could you write it in plain letters?",
    ),
    (
        "build an api with postgres and jwt auth for customers and invoices. invoices have number (unique), amount (decimal) and customer",
        "customers-api postgresql jwt rest local staging | Customer(name:str, email:email) Invoice(number:str!, amount:decimal, customer->Customer)",
    ),
    (
        "a library service: books have title and isbn; authors have name; books belong to authors",
        "library-service postgresql none rest local staging | Book(title:str, isbn:str, author->Author) Author(name:str)",
    ),
    (
        "a hotel api: rooms have number (unique), floor int and rate (decimal); guests have name and email; bookings have room, guest, check_in date and check_out date",
        "hotel-api postgresql none rest local staging | Room(number:str!, floor:int, rate:decimal) Guest(name:str, email:email) Booking(check_in:date, check_out:date, room->Room, guest->Guest)",
    ),
    (
        "an events platform with oauth: events have name, venue and starts_at; attendees have name, email and event",
        "events-api postgresql oauth2 rest local staging | Event(name:str, venue:str, starts_at:datetime) Attendee(name:str, email:email, event->Event)",
    ),
    (
        "a survey api: surveys have title; questions have survey, prompt (text) and kind: rating or text",
        "survey-api postgresql none rest local staging | Survey(title:str) Question(prompt:text, kind:str{rating|text}, survey->Survey)",
    ),
    (
        "Make an inventory API. Items: name, sku (unique), quantity (int), price (decimal). Use MySQL. Deploy to staging and then prod on ECS.",
        "inventory-api mysql none rest aws-ecs staging>prod | Item(name:str, sku:str!, quantity:int, price:decimal)",
    ),
    (
        "a kanban api with boards, columns and cards; cards have title, description and column",
        "kanban-api postgresql none rest local staging | Board(name:str) Column(name:str) Card(title:str, description:text, column->Column)",
    ),
    (
        "build a job board api: companies have name and website url; jobs have title, company, salary (decimal, optional) and remote bool",
        "job-board-api postgresql none rest local staging | Company(name:str, website_url:str) Job(title:str, salary:decimal?, remote:bool, company->Company)",
    ),
    (
        "a todo app where each todo has a title, a due date and a done flag",
        "todo-api postgresql none rest local staging | Todo(title:str, due_date:date, done:bool)",
    ),
    (
        "I'd like a small REST service to keep track of my book collection: title, author, year int and read bool",
        "books-api postgresql none rest local staging | Book(title:str, author:str, year:int, read:bool)",
    ),
    (
        "create a service for a dental clinic. patients have first name, last name, phone and email (unique). deploy to dev",
        "dental-clinic-service postgresql none rest local dev | Patient(first_name:str, last_name:str, phone:str, email:email!)",
    ),
    (
        "an api for a gym: members have name and membership: basic, plus or premium",
        "gym-api postgresql none rest local staging | Member(name:str, membership:str{basic|plus|premium})",
    ),
    (
        "please make a grocery list api with items that have name, quantity int and bought (bool)",
        "grocery-list-api postgresql none rest local staging | Item(name:str, quantity:int, bought:bool)",
    ),
    (
        "A GraphQL API for a music catalog: artists have name; albums have title, released_on date and artist; tracks have title, length_seconds int and album",
        "music-catalog-api postgresql none graphql local staging | Artist(name:str) Album(title:str, released_on:date, artist->Artist) Track(title:str, length_seconds:int, album->Album)",
    ),
    (
        "a url shortener api: links have url, slug (unique) and clicks int",
        "shortener-api postgresql none rest local staging | Link(url:str, slug:str!, clicks:int)",
    ),
    (
        "an api for tracking ci builds: builds have commit_sha, branch, status (queued/running/passed/failed) and started_at",
        "builds-api postgresql none rest local staging | Build(commit_sha:str, branch:str, status:str{queued|running|passed|failed}, started_at:datetime)",
    ),
    (
        "Need a Spring Boot API for customers",
        "QUESTION: I generate Python services with FastAPI; Spring Boot isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "a payments api in rust",
        "QUESTION: I generate Python services with FastAPI; Rust isn't built yet. Shall I build it with FastAPI?",
    ),
    (
        "a notifications api publishing events to kafka: notifications have recipient, message (text) and sent_at",
        "QUESTION: I publish changes to SQS; Kafka isn't built yet. Shall I publish them to SQS?",
    ),
    (
        "orders api with events to sqs: orders have total (decimal) and status",
        "orders-api postgresql none rest local staging | Order(total:decimal, status:str)",
    ),
    (
        "a vet api with roles vet and owner: pets have name, species and owner",
        "vet-api postgresql jwt(vet,owner) rest local staging | Pet(name:str, species:str, owner:str)",
    ),
    (
        "an api for a bakery with products (name, price decimal) and orders (product, quantity int, pickup_at datetime)",
        "bakery-api postgresql none rest local staging | Product(name:str, price:decimal) Order(quantity:int, pickup_at:datetime, product->Product)",
    ),
    (
        "a leave management api where employees have name and email, and leave requests have employee, starts_on date, ends_on date and reason (text)",
        "leave-management-api postgresql none rest local staging | Employee(name:str, email:email) LeaveRequest(starts_on:date, ends_on:date, reason:text, employee->Employee)",
    ),
    (
        "a warehouse service on ECS deploying to staging then production: pallets have code (unique) and weight float",
        "warehouse-service postgresql none rest aws-ecs staging>prod | Pallet(code:str!, weight:float)",
    ),
    (
        "a rentals api: cars have plate unique, model and daily_rate decimal; rentals have car, customer name, from date and to date",
        "rentals-api postgresql none rest local staging | Car(plate:str!, model:str, daily_rate:decimal) Rental(customer_name:str, from_date:date, to_date:date, car->Car)",
    ),
    (
        "a quiz api: quizzes have title; questions have quiz, text and answer",
        "quiz-api postgresql none rest local staging | Quiz(title:str) Question(text:text, answer:str, quiz->Quiz)",
    ),
    (
        "build a subscriptions api for a SaaS: plans have name and monthly_price (decimal); subscriptions have plan, customer_email (email) and renews_on date",
        "subscriptions-api postgresql none rest local staging | Plan(name:str, monthly_price:decimal) Subscription(customer_email:email, renews_on:date, plan->Plan)",
    ),
    (
        "Build a REST API with Postgres and JWT for a school: teachers, students and courses",
        "school-api postgresql jwt rest local staging | Teacher(name:str) Student(name:str) Course(name:str)",
    ),
    (
        "I need a backend for my podcast: episodes have title, audio url, duration int and published_at",
        "podcast-api postgresql none rest local staging | Episode(title:str, audio_url:str, duration:int, published_at:datetime)",
    ),
    (
        "an API for a farm: animals have tag (unique), species and born_on date; fields have name and acres float",
        "farm-api postgresql none rest local staging | Animal(tag:str!, species:str, born_on:date) Field(name:str, acres:float)",
    ),
    (
        "small api, sqlite, for bookmarks with url, title and tags",
        "bookmarks-api sqlite none rest local staging | Bookmark(url:str, title:str, tags:str)",
    ),
    (
        "build an orders API with PostgreSQL and JWT auth, deploy it to staging",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "spin up a graphql api for recipes using sqlite, recipes have name, servings int, vegetarian bool",
        "recipes-api sqlite none graphql local staging | Recipe(name:str, servings:int, vegetarian:bool)",
    ),
    (
        "a support api: tickets have title and status (open, pending or closed); comments have ticket and body (text)",
        "tickets-api postgresql none rest local staging | Ticket(title:str, status:str{open|pending|closed}) Comment(body:text, ticket->Ticket)",
    ),
    (
        "a user api: user has username (unique), email (unique), bio (text, optional)",
        "user-api postgresql none rest local staging | User(username:str!, email:email!, bio:text?)",
    ),
    (
        "a stores api. stores have name and city. products have name and store.",
        "stores-api postgresql none rest local staging | Store(name:str, city:str) Product(name:str, store->Store)",
    ),
    (
        "an api for a school with entities students, teachers and classes",
        "QUESTION: Entity name 'Class' is reserved; pick another. Could you correct that?",
    ),
    (
        "a timesheet api: entries have employee email (email), worked_on date, hours float and approved bool",
        "timesheet-api postgresql none rest local staging | Entry(employee_email:email, worked_on:date, hours:float, approved:bool)",
    ),
    (
        "we want an api for our newsletter subscribers: email (unique), name (optional), confirmed bool",
        "newsletter-subscribers-api postgresql none rest local staging | NewsletterSubscriber(email:email!, name:str?, confirmed:bool)",
    ),
    (
        "build an api for the office: rooms have name and capacity int; meetings have room, title, starts_at and ends_at",
        "office-api postgresql none rest local staging | Room(name:str, capacity:int) Meeting(title:str, starts_at:datetime, ends_at:datetime, room->Room)",
    ),
    (
        "set up a flights api: flights have code (unique), origin, destination, departs_at and arrives_at; passengers have name, passport (unique) and flight",
        "flights-api postgresql none rest local staging | Flight(code:str!, origin:str, destination:str, departs_at:datetime, arrives_at:datetime) Passenger(name:str, passport:str!, flight->Flight)",
    ),
    (
        "orders:\n- customer\n- total (decimal)\n- status",
        "orders-api postgresql none rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "products api\n- name\n- price (decimal)\n- sku (unique)",
        "products-api postgresql none rest local staging | Product(name:str, price:decimal, sku:str!)",
    ),
    (
        "a shipments api: shipments have order, from, to and class",
        "shipments-api postgresql none rest local staging | Shipment(order:str, from:str, to:str, class:str)",
    ),
    (
        "a users api with jwt: users have email (unique), name and role: admin, editor or viewer",
        "users-api postgresql jwt rest local staging | User(email:email!, name:str, role:str{admin|editor|viewer})",
    ),
    (
        "an api for tickets with fields title, type and order int",
        "tickets-api postgresql none rest local staging | Ticket(title:str, type:str, order:int)",
    ),
    (
        "a todo api with tаsks",
        "QUESTION: 'tаsks' mixes Latin letters with letters from another alphabet that look the same, so nobody could type that name again. Could you write it in plain letters?",
    ),
    (
        "deploy to prod a notes api",
        "notes-api postgresql none rest local prod | Note(title:str, body:text)",
    ),
    (
        "a polls api with sqlite and no auth: polls have question and closes_at; votes have poll and choice",
        "polls-api sqlite none rest local staging | Poll(question:str, closes_at:datetime) Vote(choice:str, poll->Poll)",
    ),
    (
        "a REST + GraphQL api for products with price and name",
        "products-api postgresql none rest+graphql local staging | Product(price:decimal, name:str)",
    ),
    (
        "Build an API for a restaurant.\nEntities: dishes (name, price decimal, vegan bool), orders (table_number int, placed_at datetime)\nDatabase: MariaDB\nDeploy to staging on ECS",
        "restaurant-api mysql none rest aws-ecs staging | Dish(name:str, price:decimal, vegan:bool) Order(table_number:int, placed_at:datetime)",
    ),
    (
        "create an inventory tracker with mysql: parts (part_number unique, description, qty int); suppliers (name, email); parts belong to suppliers",
        "parts-api mysql none rest local staging | Part(part_number:str!, description:text, qty:int, supplier->Supplier) Supplier(name:str, email:email)",
    ),
    (
        "make a customer feedback api: feedback has rating int, comment (text, optional) and customer email",
        "customer-feedback-api postgresql none rest local staging | Feedback(rating:int, comment:text?, customer_email:email)",
    ),
    (
        "I need a small service that stores customer feedback",
        "customer-feedbacks-api postgresql none rest local staging | CustomerFeedback(name:str)",
    ),
    (
        "can u make an endpoint for invoices w/ number, amount, due date",
        "invoices-api postgresql none rest local staging | Invoice(number:str, amount:decimal, due_date:date)",
    ),
    (
        "build a ticketing system w/ graphql. tickets: title, description, status (open/closed), assignee email",
        "tickets-api postgresql none graphql local staging | Ticket(title:str, description:text, status:str{open|closed}, assignee_email:email)",
    ),
    (
        "Our team wants a REST API for managing a book club: members, books and meetings. Meetings have date and book.",
        "book-club-api postgresql none rest local staging | Member(name:str) Book(title:str, author:str) Meeting(date:date, book->Book)",
    ),
    (
        "inventory with products and suppliers; products belong to suppliers",
        "products-api postgresql none rest local staging | Product(name:str, price:decimal, supplier->Supplier) Supplier(name:str)",
    ),
    (
        "events api (graphql) — events: name, starts_at, location; registrations: event, attendee email",
        "events-api postgresql none graphql local staging | Event(name:str, starts_at:datetime, location:str) Registration(attendee_email:email, event->Event)",
    ),
    (
        "orders service w/ postgres: order(id, customer_name, total numeric, placed_at timestamp)",
        "orders-service postgresql none rest local staging | Order(customer_name:str, total:decimal, placed_at:datetime)",
    ),
]
