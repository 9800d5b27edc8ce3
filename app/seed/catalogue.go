package seed

import "time"

// The demo catalogue: fictional venues, performers and events that look
// real on the pages. Everything is data; demo.go turns it into rows.

type venueSpec struct {
	key, name, address, city, region, country, timezone, currency string
	plan                                                          func() *layout
}

var demoVenues = []venueSpec{
	{"chicago-club", "The Lantern Club", "1423 N Milwaukee Ave", "Chicago", "IL", "US", "America/Chicago", "USD", clubLayout},
	{"boston-hall", "Meridian Concert Hall", "301 Massachusetts Ave", "Boston", "MA", "US", "America/New_York", "USD", hallLayout},
	{"london-theatre", "Regent Palace Theatre", "12 Shaftesbury Avenue", "London", "England", "GB", "Europe/London", "GBP", func() *layout { return theatreLayout(20, westEndHouse) }},
	{"manchester-arena", "Northgate Arena", "Hunts Bank", "Manchester", "England", "GB", "Europe/London", "GBP", func() *layout { return arenaLayout("Court") }},
	{"madrid-stadium", "Estadio Solaris", "Paseo de la Castellana 259", "Madrid", "Comunidad de Madrid", "ES", "Europe/Madrid", "EUR", func() *layout { return stadiumLayout("Pitch") }},
	{"toronto-cellar", "The Laugh Cellar", "88 Queen St W", "Toronto", "ON", "CA", "America/Toronto", "CAD", cellarLayout},
	{"sydney-amphitheatre", "Harbourside Amphitheatre", "1 Circular Quay W", "Sydney", "NSW", "AU", "Australia/Sydney", "AUD", amphitheatreLayout},
	{"tokyo-hall", "Kōyō Hall", "2-3-1 Nishi-Shinjuku", "Tokyo", "Tokyo", "JP", "Asia/Tokyo", "JPY", hallLayout},
	{"paris-theatre", "Salle Lumière", "28 Boulevard des Capucines", "Paris", "Île-de-France", "FR", "Europe/Paris", "EUR", func() *layout { return theatreLayout(16, frenchHouse) }},
	{"berlin-arena", "Spreehalle", "Mühlenstraße 12", "Berlin", "Berlin", "DE", "Europe/Berlin", "EUR", func() *layout { return arenaLayout("Rink") }},
	{"chicago-stadium", "Lakefront Field", "1410 Museum Campus Dr", "Chicago", "IL", "US", "America/Chicago", "USD", func() *layout { return stadiumLayout("Field") }},
	{"saopaulo-arena", "Arena Paulista", "Av. Francisco Matarazzo 1705", "São Paulo", "SP", "BR", "America/Sao_Paulo", "BRL", func() *layout { return arenaLayout("Court") }},
	{"mexico-theatre", "Teatro Aurora", "Av. Juárez 44", "Mexico City", "CDMX", "MX", "America/Mexico_City", "MXN", func() *layout { return theatreLayout(18, mexicanHouse) }},
}

// usdRate makes prices look local: a rough number of currency units per US dollar.
var usdRate = map[string]float64{"USD": 1, "CAD": 1.35, "AUD": 1.5, "GBP": 0.8, "EUR": 0.92, "JPY": 150, "BRL": 5, "MXN": 18}

type performerSpec struct {
	name, kind, bio string
}

var demoPerformers = []performerSpec{
	{"Aurora Vale", "artist", "Chart-topping pop singer whose stadium shows pair glittering synths with confessional songwriting."},
	{"The Midnight Echoes", "band", "Four-piece indie rock band from Leeds, known for soaring guitars and sing-along choruses."},
	{"Paper Lanterns", "band", "Dreamy Scandinavian indie-folk trio, a favourite opening act on big European tours."},
	{"Iron Harbor", "band", "Thunderous heavy metal veterans with twin-guitar riffs and a pyrotechnic live show."},
	{"Ashen Crown", "band", "Young thrash metal quartet from Oakland, fast, loud and relentless."},
	{"Kasimir Holt Quartet", "band", "Modern jazz quartet led by pianist Kasimir Holt, blending hard bop with Nordic calm."},
	{"Lena Marlowe", "artist", "Singer-songwriter with a warm alto and stories of small towns and long drives."},
	{"DJ Solenne", "artist", "French electronic producer whose sunset sets build from deep house to euphoric techno."},
	{"Boston Meridian Symphony", "company", "The resident orchestra of Meridian Concert Hall, performing the great symphonic repertoire since 1921."},
	{"Los Hermanos Cielo", "band", "Latin pop brothers from Guadalajara who fill arenas with cumbia, mariachi brass and romance."},
	{"Yuki Tanabe", "artist", "J-pop idol turned producer, famous for dazzling choreography and bright, hook-laden songs."},
	{"Blue Ridge Revival", "band", "Bluegrass and country five-piece with banjo, fiddle and tight three-part harmonies."},

	{"CD Solaris Madrid", "team", "Madrid's sky-blue football club, three-time league champions, playing at Estadio Solaris."},
	{"Atlético Rivera", "team", "Hard-pressing football side from the south of Madrid with a fierce local rivalry."},
	{"Valencia Costa FC", "team", "Attacking football club from the Mediterranean coast, famous for its youth academy."},
	{"Sevilla Norte", "team", "Andalusian football club with a passionate travelling support."},
	{"Bilbao Ría", "team", "Basque football club that fields only home-grown players."},
	{"Chicago Windrunners", "team", "Chicago's American football team, playing lakeside at Lakefront Field."},
	{"Boston Harbormen", "team", "New England American football franchise with a stingy defence."},
	{"Detroit Ironclads", "team", "Blue-collar American football team from Motor City."},
	{"Manchester Thunder", "team", "Manchester's professional basketball team, reigning British league champions."},
	{"London Lions Royal", "team", "Basketball club from east London, quick in transition and deadly from three."},
	{"Glasgow Comets", "team", "Scottish basketball side with the league's loudest away end."},
	{"Berlin Eisfüchse", "team", "Berlin's ice hockey club, the Ice Foxes, playing at the Spreehalle."},
	{"Hamburg Sturm", "team", "Ice hockey team from the port city, physical and fast."},
	{"München Adler", "team", "Bavarian ice hockey champions with a celebrated power play."},
	{"Paulista Vôlei", "team", "São Paulo volleyball club, serial winners of the national Superliga."},
	{"Rio Maré Vôlei", "team", "Volleyball club from Rio de Janeiro, strong at the net and in the sand."},

	{"Starlight Theatricals", "company", "West End production company behind award-winning musicals."},
	{"Fennick Street Players", "company", "London ensemble staging new writing and bold revivals of modern classics."},
	{"Compagnie du Pont Neuf", "company", "Parisian theatre company devoted to comedy, music and French farce."},
	{"Teatro del Ángel", "company", "Mexico City company producing large-scale Spanish-language musicals."},

	{"Marcus Bell", "comedian", "Stand-up comic whose observational sets about modern life sell out clubs across North America."},
	{"Priya Raman", "comedian", "Sharp, fast-talking stand-up and podcast host, known for her takes on family and tech."},
	{"Danny Okafor", "comedian", "Manchester-born comedian with a knack for storytelling and crowd work."},
	{"Sofie Lindqvist", "comedian", "Swedish deadpan comedian performing in English to packed rooms across Europe."},

	{"Cirque Lumina", "company", "Contemporary circus troupe of acrobats, aerialists and clowns under dazzling light."},
	{"Frozen Fables on Ice", "company", "Touring ice show retelling classic fairy tales with champion skaters."},
	{"Dino Discovery Live", "company", "Life-size animatronic dinosaurs and a palaeontologist guide in a show for all ages."},
	{"The Great Bubble Show", "company", "Giant bubbles, smoke-filled spheres and a lot of laughter for young audiences."},
}

// engagement is a run of events: a tour, a season, a show's run.
type engagement struct {
	typ         string
	name        string   // event name; for sports the fixture is built from the teams
	performers  []string // headliner (or home team) first
	roles       []string // role of each performer
	venues      []string // venue keys; dates rotate through them
	dates       int
	hour, min   int // local start time
	baseUSD     float64
	description string
	popularity  float64 // 0..1, share of seats already sold; 1 sells out
	// onSaleIn puts the event on sale that long after seeding, nothing sold
	// yet, with a waiting room in queue mode: a hot on-sale to try.
	onSaleIn time.Duration
	queue    string
}

var demoEngagements = []engagement{
	// Concerts
	{typ: "concert", name: "Aurora Vale: The Northern Lights Tour", performers: []string{"Aurora Vale", "Paper Lanterns"}, roles: []string{"headliner", "support"},
		venues: []string{"madrid-stadium", "manchester-arena", "berlin-arena", "saopaulo-arena", "sydney-amphitheatre", "chicago-stadium"}, dates: 6, hour: 20, baseUSD: 165, popularity: 0.75,
		description: "Aurora Vale brings the Northern Lights Tour to town: two hours of hits, a new album played live, and a light show to match. Paper Lanterns open."},
	{typ: "concert", name: "The Midnight Echoes: Live", performers: []string{"The Midnight Echoes", "Paper Lanterns"}, roles: []string{"headliner", "support"},
		venues: []string{"manchester-arena", "boston-hall", "london-theatre", "berlin-arena", "paris-theatre"}, dates: 5, hour: 19, min: 30, baseUSD: 85, popularity: 0.5,
		description: "The Midnight Echoes play songs from all four albums, with Paper Lanterns in support."},
	{typ: "concert", name: "Iron Harbor: World Forged Tour", performers: []string{"Iron Harbor", "Ashen Crown"}, roles: []string{"headliner", "support"},
		venues: []string{"berlin-arena", "madrid-stadium", "saopaulo-arena", "manchester-arena"}, dates: 4, hour: 19, baseUSD: 110, popularity: 0.45,
		description: "Heavy metal at full volume: Iron Harbor's World Forged Tour, with thrash upstarts Ashen Crown opening. Pyrotechnics; earplugs recommended."},
	{typ: "concert", name: "Kasimir Holt Quartet", performers: []string{"Kasimir Holt Quartet"}, roles: []string{"headliner"},
		venues: []string{"chicago-club", "boston-hall", "tokyo-hall", "chicago-club"}, dates: 4, hour: 20, baseUSD: 55, popularity: 0.35,
		description: "An intimate evening of modern jazz: originals from the quartet's new record and a few reimagined standards."},
	{typ: "concert", name: "Lena Marlowe: Long Roads", performers: []string{"Lena Marlowe"}, roles: []string{"headliner"},
		venues: []string{"chicago-club", "boston-hall", "london-theatre", "paris-theatre", "mexico-theatre"}, dates: 5, hour: 20, baseUSD: 60, popularity: 0.4,
		description: "Lena Marlowe's Long Roads tour: new songs and old favourites, solo and with a small band."},
	{typ: "concert", name: "DJ Solenne: Sunset Sessions", performers: []string{"DJ Solenne"}, roles: []string{"headliner"},
		venues: []string{"sydney-amphitheatre", "manchester-arena", "berlin-arena"}, dates: 3, hour: 21, baseUSD: 70, popularity: 0.3,
		description: "An all-night journey from deep house to euphoric techno, with immersive visuals."},
	{typ: "concert", name: "Boston Meridian Symphony: Beethoven's Ninth", performers: []string{"Boston Meridian Symphony"}, roles: []string{"headliner"},
		venues: []string{"boston-hall"}, dates: 2, hour: 19, min: 30, baseUSD: 95, popularity: 0.55,
		description: "Beethoven's Symphony No. 9 \"Choral\", with the Meridian Chorus and four guest soloists."},
	{typ: "concert", name: "Boston Meridian Symphony: Mahler's Resurrection", performers: []string{"Boston Meridian Symphony"}, roles: []string{"headliner"},
		venues: []string{"boston-hall"}, dates: 2, hour: 19, min: 30, baseUSD: 90, popularity: 0.3,
		description: "Mahler's Symphony No. 2, \"Resurrection\": a choral and orchestral summit."},
	{typ: "concert", name: "Los Hermanos Cielo: Gira Corazón", performers: []string{"Los Hermanos Cielo"}, roles: []string{"headliner"},
		venues: []string{"mexico-theatre", "saopaulo-arena", "madrid-stadium"}, dates: 3, hour: 21, baseUSD: 95, popularity: 0.5,
		description: "Cumbia, mariachi brass and ballads: Los Hermanos Cielo's biggest tour yet."},
	{typ: "concert", name: "Yuki Tanabe: Neon Bloom", performers: []string{"Yuki Tanabe"}, roles: []string{"headliner"},
		venues: []string{"tokyo-hall", "tokyo-hall", "tokyo-hall", "sydney-amphitheatre"}, dates: 4, hour: 18, min: 30, baseUSD: 90, popularity: 0.65,
		description: "Yuki Tanabe's Neon Bloom show: new singles, a full dance crew and a few surprises."},
	{typ: "concert", name: "Blue Ridge Revival", performers: []string{"Blue Ridge Revival"}, roles: []string{"headliner"},
		venues: []string{"chicago-club", "boston-hall"}, dates: 2, hour: 20, baseUSD: 45, popularity: 0.3,
		description: "Banjo, fiddle and three-part harmonies: a night of bluegrass and country."},

	// Sports: the home team first, then its opponents in turn.
	{typ: "sports", performers: []string{"CD Solaris Madrid", "Atlético Rivera", "Valencia Costa FC", "Sevilla Norte", "Bilbao Ría"},
		venues: []string{"madrid-stadium"}, dates: 3, hour: 21, baseUSD: 110, popularity: 0.55,
		description: "League match at Estadio Solaris. Gates open 90 minutes before kick-off."},
	{typ: "sports", performers: []string{"Chicago Windrunners", "Boston Harbormen", "Detroit Ironclads"},
		venues: []string{"chicago-stadium"}, dates: 2, hour: 12, baseUSD: 120, popularity: 0.5,
		description: "Regular-season American football at Lakefront Field. Tailgating lots open four hours before kickoff."},
	{typ: "sports", performers: []string{"Manchester Thunder", "London Lions Royal", "Glasgow Comets"},
		venues: []string{"manchester-arena"}, dates: 4, hour: 19, min: 30, baseUSD: 45, popularity: 0.35,
		description: "British league basketball at Northgate Arena."},
	{typ: "sports", performers: []string{"Berlin Eisfüchse", "Hamburg Sturm", "München Adler"},
		venues: []string{"berlin-arena"}, dates: 4, hour: 19, baseUSD: 50, popularity: 0.4,
		description: "Ice hockey at the Spreehalle: the Ice Foxes at home."},
	{typ: "sports", performers: []string{"Paulista Vôlei", "Rio Maré Vôlei"},
		venues: []string{"saopaulo-arena"}, dates: 2, hour: 20, baseUSD: 30, popularity: 0.3,
		description: "Superliga volleyball at Arena Paulista."},

	// Theatre
	{typ: "theater", name: "Moonlit Avenue: The Musical", performers: []string{"Starlight Theatricals"}, roles: []string{"headliner"},
		venues: []string{"london-theatre"}, dates: 8, hour: 19, min: 30, baseUSD: 120, popularity: 0.6,
		description: "The award-winning musical about a night-shift diner where strangers' lives collide. Running time 2 hours 40 minutes, including an interval."},
	{typ: "theater", name: "The Glass Orchard", performers: []string{"Fennick Street Players"}, roles: []string{"headliner"},
		venues: []string{"london-theatre"}, dates: 4, hour: 19, min: 45, baseUSD: 75, popularity: 0.3,
		description: "A family gathers at its failing apple farm for one last harvest. A new play; suitable for ages 14+."},
	{typ: "theater", name: "Les Étoiles Filantes", performers: []string{"Compagnie du Pont Neuf"}, roles: []string{"headliner"},
		venues: []string{"paris-theatre"}, dates: 5, hour: 20, baseUSD: 70, popularity: 0.4,
		description: "A musical farce of mistaken identities on a night train to Nice. In French with English surtitles."},
	{typ: "theater", name: "Corazón de Papel", performers: []string{"Teatro del Ángel"}, roles: []string{"headliner"},
		venues: []string{"mexico-theatre"}, dates: 4, hour: 20, min: 30, baseUSD: 60, popularity: 0.45,
		description: "A sweeping Spanish-language musical about a paper-flower maker and a travelling circus."},

	// Comedy
	{typ: "comedy", name: "Marcus Bell: Overthinking It", performers: []string{"Marcus Bell"}, roles: []string{"headliner"},
		venues: []string{"toronto-cellar", "chicago-club", "toronto-cellar", "boston-hall"}, dates: 4, hour: 21, baseUSD: 45, popularity: 0.6,
		description: "Marcus Bell's new hour of stand-up. Strong language; ages 18+."},
	{typ: "comedy", name: "Priya Raman: Buffering", performers: []string{"Priya Raman"}, roles: []string{"headliner"},
		venues: []string{"toronto-cellar", "london-theatre", "boston-hall"}, dates: 3, hour: 20, baseUSD: 50, popularity: 0.5,
		description: "Priya Raman on family group chats, smart fridges and other modern horrors. Ages 16+."},
	{typ: "comedy", name: "Danny Okafor: Tall Tales", performers: []string{"Danny Okafor"}, roles: []string{"headliner"},
		venues: []string{"manchester-arena", "toronto-cellar", "sydney-amphitheatre"}, dates: 3, hour: 20, baseUSD: 45, popularity: 0.35,
		description: "Storytelling stand-up from Danny Okafor, with plenty of crowd work."},
	{typ: "comedy", name: "Sofie Lindqvist: Deadpan", performers: []string{"Sofie Lindqvist"}, roles: []string{"headliner"},
		venues: []string{"paris-theatre", "toronto-cellar"}, dates: 2, hour: 21, baseUSD: 40, popularity: 1,
		description: "Sofie Lindqvist's award-winning deadpan stand-up, in English."},

	// Family
	{typ: "family", name: "Cirque Lumina: Skyward", performers: []string{"Cirque Lumina"}, roles: []string{"headliner"},
		venues: []string{"manchester-arena", "berlin-arena", "saopaulo-arena", "sydney-amphitheatre"}, dates: 4, hour: 14, baseUSD: 60, popularity: 0.4,
		description: "Acrobats, aerialists and clowns soar through a story of a girl who learns to fly. About 2 hours with an interval."},
	{typ: "family", name: "Frozen Fables on Ice", performers: []string{"Frozen Fables on Ice"}, roles: []string{"headliner"},
		venues: []string{"berlin-arena", "manchester-arena", "saopaulo-arena"}, dates: 3, hour: 11, baseUSD: 45, popularity: 0.35,
		description: "Champion skaters bring classic fairy tales to the ice. Perfect for ages 3 and up."},
	{typ: "family", name: "Dino Discovery Live", performers: []string{"Dino Discovery Live"}, roles: []string{"headliner"},
		venues: []string{"sydney-amphitheatre", "mexico-theatre", "london-theatre"}, dates: 3, hour: 15, baseUSD: 35, popularity: 0.3,
		description: "Walk with life-size dinosaurs and meet a real palaeontologist. 75 minutes, no interval."},
	{typ: "family", name: "The Great Bubble Show", performers: []string{"The Great Bubble Show"}, roles: []string{"headliner"},
		venues: []string{"chicago-club", "paris-theatre"}, dates: 2, hour: 11, baseUSD: 25, popularity: 0.25,
		description: "Giant bubbles, smoke bubbles and bubbles you can stand inside. Ages 2 and up."},
	// An on-sale minutes after the first start, with a waiting room.
	{typ: "concert", name: "Aurora Vale: Northern Lights, Added Date", performers: []string{"Aurora Vale", "Paper Lanterns"}, roles: []string{"headliner", "support"},
		venues: []string{"manchester-arena"}, dates: 1, hour: 20, baseUSD: 165, onSaleIn: 5 * time.Minute, queue: "always",
		description: "Demand for Aurora Vale's Northern Lights shows added a date in Manchester. It goes on sale with a waiting room: join before the on-sale and you get a place in a random order when it opens."},
}
